// Boots docker-compose.yml without Docker: each service becomes local processes run with the
// service's own command, environment and configuration files, as Docker would run them, except:
//   - every listener is on 127.0.0.1 and a free port, and `service:port` addresses in environment
//     values and configs are rewritten to those ports;
//   - bind mounts are read from the repository in place; named volumes become temporary folders;
//   - each replica gets NODE_ID `<service>-<n>` (Docker gives each container its own hostname);
//   - HAProxy and Prometheus get the loopback variants of lib/variants.mjs (static servers and
//     targets instead of Docker's DNS; Prometheus scrapes every second).
// Binaries come from the host: redis-server, mosquitto, haproxy, prometheus, and node for the images
// built from this repository (their Dockerfile's CMD and ENV, run from the repository root).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { parse } from 'yaml';
import { freePort, httpGet, ProcessGroup, tcpOpen, waitFor } from './processes.mjs';
import { readRepoFile, repoPath, repoRoot, systemTool } from './tools.mjs';
import { haproxyLoopbackConfig, mosquittoLoopbackConfig, prometheusLoopbackConfig } from './variants.mjs';

export async function bootComposeStack({ logDir, scrapeIntervalSeconds = 1 }) {
  const compose = parse(readRepoFile('docker-compose.yml'));
  const services = compose.services;
  const work = mkdtempSync(join(tmpdir(), 'chat-topology-'));
  mkdirSync(logDir, { recursive: true });
  const processes = new ProcessGroup(logDir);
  const replicas = (name) => services[name].deploy?.replicas ?? 1;

  const port = {
    redis: await freePort(),
    mqtt: await freePort(),
    mqttWs: await freePort(),
    chat: await freePort(),
    stats: await freePort(),
    prometheus: await freePort(),
    gateways: await Promise.all(Array.from({ length: replicas('gateway') }, freePort)),
    bridges: await Promise.all(Array.from({ length: replicas('bridge') }, freePort)),
  };
  const local = (p) => `127.0.0.1:${p}`;
  // Container address -> loopback address, for environment values and static scrape targets.
  const addresses = {
    'redis:6379': local(port.redis),
    'mosquitto:1883': local(port.mqtt),
    'mosquitto:9001': local(port.mqttWs),
    'haproxy:8404': local(port.stats),
    'localhost:9090': local(port.prometheus),
  };

  const stack = {
    processes,
    compose,
    port,
    haproxyUrl: `ws://127.0.0.1:${port.chat}/ws`,
    statsUrl: `http://127.0.0.1:${port.stats}`,
    prometheusUrl: `http://127.0.0.1:${port.prometheus}`,
    mqttUrl: `mqtt://127.0.0.1:${port.mqtt}`,
    gateways: [],
    bridges: [],
    async stop() {
      await processes.stopAll();
      rmSync(work, { recursive: true, force: true });
    },
  };

  try {
    const mapPath = containerPathMapper(services, work);

    // Redis: the compose command, plus where this copy listens.
    const [redisBinary, ...redisArgs] = services.redis.command;
    processes.start('redis', systemTool(redisBinary, 'redis-server'), [
      ...redisArgs.map((arg) => mapPath('redis', arg)),
      '--port', String(port.redis), '--bind', '127.0.0.1', '--daemonize', 'no',
    ], { cwd: work, env: baseEnv() });

    // Mosquitto: the compose command with its configuration's loopback variant.
    const [mosquittoBinary, ...mosquittoArgs] = services.mosquitto.command;
    const mosquittoConfig = join(work, 'mosquitto.conf');
    const configArg = mosquittoArgs.indexOf('-c') + 1;
    writeFileSync(mosquittoConfig, mosquittoLoopbackConfig(readFileSync(mapPath('mosquitto', mosquittoArgs[configArg]), 'utf8'), {
      listeners: { 1883: port.mqtt, 9001: port.mqttWs },
      mapPath: (path) => mapPath('mosquitto', path),
      user: userInfo().username,
    }));
    mosquittoArgs[configArg] = mosquittoConfig;
    processes.start('mosquitto', systemTool(mosquittoBinary, 'mosquitto'), mosquittoArgs, { cwd: work, env: baseEnv() });

    await waitFor('Redis and Mosquitto to listen', async () => {
      processes.assertRunning('redis');
      processes.assertRunning('mosquitto');
      return (await tcpOpen(port.redis)) && (await tcpOpen(port.mqtt));
    });

    // Gateways and bridges: the image's command and ENV, then the compose environment.
    const startNodeService = (service, index, servicePort) => {
      const name = `${service}-${index + 1}`;
      const { command, env: imageEnv } = imageOf(services[service]);
      const env = {
        ...baseEnv(),
        ...imageEnv,
        ...composeEnvironment(services[service].environment, addresses),
        PORT: String(servicePort),
        HOST: '127.0.0.1',
        NODE_ID: name,
      };
      const [binary, ...args] = command;
      processes.start(name, binary === 'node' ? process.execPath : binary, args, { cwd: repoRoot, env });
      return { name, port: servicePort, url: `http://127.0.0.1:${servicePort}` };
    };
    stack.gateways = port.gateways.map((p, i) => startNodeService('gateway', i, p));
    stack.bridges = port.bridges.map((p, i) => startNodeService('bridge', i, p));
    for (const node of [...stack.gateways, ...stack.bridges]) {
      await waitFor(`${node.name} to be ready`, async () => {
        processes.assertRunning(node.name);
        return (await httpGet(`${node.url}/readyz`)).status === 200;
      });
    }

    // HAProxy: the compose command with the loopback variant of its configuration.
    const haproxyArgs = [...services.haproxy.command.slice(1)];
    const haproxyConfigArg = haproxyArgs.indexOf('-f') + 1;
    const haproxyConfig = join(work, 'haproxy.cfg');
    const containerPorts = services.haproxy.ports.map((p) => String(p).split(':').at(-1));
    const binds = Object.fromEntries(containerPorts.map((p) => [p, p === '8404' ? port.stats : port.chat]));
    writeFileSync(haproxyConfig, haproxyLoopbackConfig(readFileSync(mapPath('haproxy', haproxyArgs[haproxyConfigArg]), 'utf8'), {
      binds,
      gateways: port.gateways,
    }));
    haproxyArgs[haproxyConfigArg] = haproxyConfig;
    // -db: stay in the foreground, as the image's entrypoint runs it.
    processes.start('haproxy', systemTool(services.haproxy.command[0], 'haproxy'), ['-db', ...haproxyArgs], { cwd: work, env: baseEnv() });

    // Prometheus: the compose flags, with the loopback variant of its configuration.
    const prometheusArgs = services.prometheus.command.map((arg) => {
      const [flag, value] = arg.split('=');
      if (flag === '--config.file') {
        const original = mapPath('prometheus', value);
        const variant = join(work, 'prometheus.yml');
        writeFileSync(variant, prometheusLoopbackConfig(readFileSync(original, 'utf8'), {
          rulesDir: dirname(original),
          intervalSeconds: scrapeIntervalSeconds,
          dnsTargets: { gateway: stack.gateways.map((g) => local(g.port)), bridge: stack.bridges.map((b) => local(b.port)) },
          staticTargets: addresses,
        }));
        return `${flag}=${variant}`;
      }
      return value === undefined ? arg : `${flag}=${mapPath('prometheus', value)}`;
    });
    processes.start('prometheus', systemTool('prometheus', 'prometheus'), [...prometheusArgs, `--web.listen-address=${local(port.prometheus)}`], { cwd: work, env: baseEnv() });

    await waitFor(`HAProxy to see all ${port.gateways.length} gateways ready`, async () => {
      processes.assertRunning('haproxy');
      const { text } = await httpGet(`${stack.statsUrl}/metrics`);
      return Number(text.match(/^haproxy_backend_active_servers\{proxy="gateways"\} (\d+)/m)?.[1]) === port.gateways.length;
    });
    await waitFor('Prometheus to be ready', async () => {
      processes.assertRunning('prometheus');
      return (await httpGet(`${stack.prometheusUrl}/-/ready`)).status === 200;
    });
    return stack;
  } catch (error) {
    const names = ['redis', 'mosquitto', ...stack.gateways.map((g) => g.name), ...stack.bridges.map((b) => b.name), 'haproxy', 'prometheus'];
    const tails = names.map((name) => processes.tail(name, 10)).join('\n');
    await stack.stop();
    throw new Error(`the stack did not come up: ${error.message}\n${tails}\n(full logs in ${logDir})`);
  }
}

/** Only what a process needs to run; nothing of the developer's shell leaks into the services. */
function baseEnv() {
  return { PATH: process.env.PATH, HOME: process.env.HOME, LANG: 'C.UTF-8' };
}

/**
 * The compose `environment` map with container addresses made local. A key without a value is
 * passed through from this process's environment when set there, as compose does.
 */
export function composeEnvironment(environment, addresses) {
  const env = {};
  for (const [key, value] of Object.entries(environment ?? {})) {
    if (value === null || value === undefined) {
      if (process.env[key] !== undefined) env[key] = process.env[key];
      continue;
    }
    let text = String(value);
    for (const [container, loopback] of Object.entries(addresses)) text = text.replaceAll(`//${container}`, `//${loopback}`);
    env[key] = text;
  }
  return env;
}

/** The command and ENV of the image a service builds from this repository (its Dockerfile). */
function imageOf(service) {
  const dockerfile = readRepoFile(service.build.context, service.build.dockerfile);
  const finalStage = dockerfile.split(/^FROM /m).at(-1);
  const cmd = finalStage.match(/^CMD (\[.*\])\s*$/m);
  if (!cmd) throw new Error(`${service.build.dockerfile} has no exec-form CMD in its last stage`);
  const env = {};
  for (const [, assignments] of finalStage.matchAll(/^ENV (.+)$/gm)) {
    for (const [, key, value] of assignments.matchAll(/(\w+)=("[^"]*"|\S+)/g)) env[key] = value.replace(/^"|"$/g, '');
  }
  return { command: JSON.parse(cmd[1]), env };
}

/** Maps a path inside a service's container to the host: bind mounts to the repo, named volumes to `work`. */
function containerPathMapper(services, work) {
  return (serviceName, path) => {
    if (!path.startsWith('/')) return path;
    const mounts = (services[serviceName].volumes ?? []).map((volume) => {
      const [source, target] = volume.split(':');
      const host = source.startsWith('.') ? repoPath(source) : join(work, 'volumes', serviceName, source);
      if (!source.startsWith('.')) mkdirSync(host, { recursive: true });
      return { target, host };
    });
    const mount = mounts
      .filter(({ target }) => path === target || path.startsWith(`${target}/`))
      .sort((a, b) => b.target.length - a.target.length)[0];
    return mount ? mount.host + path.slice(mount.target.length) : path;
  };
}
