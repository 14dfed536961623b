// The PromQL that operators rely on: every query of the Grafana dashboard and every alert rule.
// The static tests check its syntax with promtool; the topology test runs it against a live stack.
import { parse } from 'yaml';
import { readRepoFile } from './tools.mjs';

export const dashboardFile = 'deploy/grafana/dashboards/chat-cluster.json';
export const alertsFile = 'deploy/prometheus/alerts.yml';

/** Every panel target of the dashboard: { panel, refId, expr }. */
export function dashboardQueries() {
  const dashboard = JSON.parse(readRepoFile(dashboardFile));
  const queries = [];
  const visit = (panels) => {
    for (const panel of panels ?? []) {
      for (const target of panel.targets ?? []) {
        queries.push({ panel: panel.title, refId: target.refId, expr: target.expr });
      }
      visit(panel.panels);
    }
  };
  visit(dashboard.panels);
  return queries;
}

/** The dashboard's template variable called `name`. */
export function dashboardVariable(name) {
  return JSON.parse(readRepoFile(dashboardFile)).templating.list.find((variable) => variable.name === name);
}

/** Every alerting rule: { alert, expr, for }. */
export function alertRules() {
  const { groups } = parse(readRepoFile(alertsFile));
  return groups.flatMap((group) => group.rules.filter((rule) => rule.alert));
}

/**
 * Grafana's variables replaced as Grafana does with every node selected (the `node` variable's
 * allValue `.*`) and the interval variables by a fixed window, so Prometheus can run the query.
 */
export function concreteQuery(expr, window = '1m') {
  return expr.replaceAll('$__rate_interval', window).replaceAll('$__interval', window).replaceAll('$node', '.*');
}

const comparisons = ['==', '!=', '>=', '<=', '>', '<'];

/**
 * The signal an alert watches: its expr without the final top-level `OPERATOR threshold`, so that
 * a healthy cluster still returns series for it (`chat_bus_connected == 0` -> `chat_bus_connected`).
 * An expr with no top-level comparison is returned as it is.
 */
export function alertSignal(expr) {
  let depth = 0;
  let quote = null;
  let cut = -1;
  for (let i = 0; i < expr.length; i++) {
    const char = expr[i];
    if (quote) {
      if (char === '\\') i++;
      else if (char === quote) quote = null;
      continue;
    }
    if (char === '"' || char === "'" || char === '`') quote = char;
    else if ('({['.includes(char)) depth++;
    else if (')}]'.includes(char)) depth--;
    else if (depth === 0) {
      const operator = comparisons.find((op) => expr.startsWith(op, i));
      // `=~` and `!~` only occur inside label matchers, at depth > 0.
      if (operator) {
        cut = i;
        i += operator.length - 1;
      }
    }
  }
  return (cut === -1 ? expr : expr.slice(0, cut)).trim();
}
