// Loopback variants of the compose stack's configuration files, for running them as plain processes.
// Each rewrite names the exact lines it changes and throws when one is missing or ambiguous, so a
// config edit that breaks the variant fails the test loudly instead of testing something else.
// To support a new kind of line, add a rewrite here and list it in the config file's header comment.
import { isAbsolute, join } from 'node:path';
import { parse, stringify } from 'yaml';

function replaceExactly(text, pattern, replacement, what, expected = 1) {
  const matches = text.match(new RegExp(pattern.source, `${pattern.flags.replace('g', '')}g`)) ?? [];
  if (matches.length !== expected) {
    throw new Error(`expected ${expected} ${what}, found ${matches.length}: the variant rewrite needs updating`);
  }
  return text.replace(new RegExp(pattern.source, `${pattern.flags.replace('g', '')}g`), replacement);
}

/**
 * deploy/haproxy/haproxy.cfg with its frontends on loopback ports and static gateway servers.
 * @param {string} text the original configuration
 * @param {{ binds: Record<string, number>, gateways: number[] }} options
 *   binds: original bind port -> loopback port; gateways: the local gateway ports
 */
export function haproxyLoopbackConfig(text, { binds, gateways }) {
  let result = text;
  for (const [original, port] of Object.entries(binds)) {
    result = replaceExactly(result, new RegExp(`^(\\s*)bind :${original}[ \\t]*$`, 'm'), `$1bind 127.0.0.1:${port}`, `\`bind :${original}\` line`);
  }
  result = replaceExactly(
    result,
    /^(\s*)server-template (\S+) \d+ \S+ (.*?)resolvers \S+ init-addr none[ \t]*$/m,
    (_, indent, prefix, options) =>
      gateways.map((port, i) => `${indent}server ${prefix}${i + 1} 127.0.0.1:${port} ${options.trim()}`).join('\n'),
    '`server-template` line',
  );
  result = replaceExactly(result, /^resolvers \S+\n(?:[ \t]+.*\n)*/m, '', '`resolvers` section');
  return result;
}

/**
 * deploy/prometheus/prometheus.yml scraping local processes instead of Docker's DNS.
 * @param {string} text the original configuration
 * @param {{ rulesDir: string, intervalSeconds: number, dnsTargets: Record<string, string[]>,
 *   staticTargets: Record<string, string> }} options
 *   dnsTargets: DNS name -> loopback host:port of each replica; staticTargets: container
 *   host:port -> loopback host:port; rulesDir: where relative rule_files resolve
 */
export function prometheusLoopbackConfig(text, { rulesDir, intervalSeconds, dnsTargets, staticTargets }) {
  const config = parse(text);
  config.global.scrape_interval = `${intervalSeconds}s`;
  config.global.scrape_timeout = `${intervalSeconds}s`;
  config.global.evaluation_interval = `${intervalSeconds}s`;
  config.rule_files = (config.rule_files ?? []).map((file) => (isAbsolute(file) ? file : join(rulesDir, file)));
  for (const job of config.scrape_configs) {
    const targets = [];
    for (const sd of job.dns_sd_configs ?? []) {
      for (const name of sd.names) {
        if (!dnsTargets[name]) throw new Error(`job ${job.job_name}: no local replicas for DNS name ${name}`);
        targets.push(...dnsTargets[name]);
      }
    }
    for (const group of job.static_configs ?? []) {
      for (const target of group.targets) {
        if (!staticTargets[target]) throw new Error(`job ${job.job_name}: no local address for ${target}`);
        targets.push(staticTargets[target]);
      }
    }
    delete job.dns_sd_configs;
    job.static_configs = [{ targets }];
  }
  return stringify(config);
}

/**
 * deploy/mosquitto/mosquitto.conf with its listeners on loopback ports and its container paths
 * mapped to host paths.
 * @param {string} text the original configuration
 * @param {{ listeners: Record<string, number>, mapPath: (path: string) => string, user: string }} options
 *   listeners: original port -> loopback port; mapPath: container path -> host path
 */
export function mosquittoLoopbackConfig(text, { listeners, mapPath, user }) {
  const seen = new Set();
  const lines = text.split('\n').map((line) => {
    const listener = line.match(/^(\s*)listener\s+(\d+)(\s+\S+)?\s*$/);
    if (listener) {
      const port = listeners[listener[2]];
      if (!port) throw new Error(`mosquitto.conf listens on ${listener[2]}, which the test does not map`);
      seen.add(listener[2]);
      return `${listener[1]}listener ${port} 127.0.0.1`;
    }
    // Running as root, Mosquitto would switch to its own user, which cannot read the test's files.
    if (/^\s*user\s/.test(line)) return '';
    if (/^\s*log_dest\s+file\b/.test(line)) return 'log_dest stdout';
    return line.replace(/(^|\s)(\/[^\s]+)/g, (_, space, path) => space + mapPath(path));
  });
  for (const port of Object.keys(listeners)) {
    if (!seen.has(port)) throw new Error(`mosquitto.conf has no \`listener ${port}\``);
  }
  return [`user ${user}`, ...lines].join('\n');
}
