// docker-compose.yml, checked without a Docker engine: against the Compose Specification by
// compose-go (what `docker compose config` runs), then for the shape issue 4 asks of the stack.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { parse } from 'yaml';
import { cachedTool, readRepoFile, repoPath, run } from './lib/tools.mjs';

const compose = parse(readRepoFile('docker-compose.yml'));
const services = compose.services;

test('docker-compose.yml validates against the Compose Specification', async () => {
  const { code, stdout, stderr } = await run(cachedTool('compose-check'), [repoPath('docker-compose.yml')]);
  assert.equal(code, 0, `compose-check rejected docker-compose.yml:\n${stderr}${stdout}`);
  assert.match(stdout, /services \[bridge gateway grafana haproxy mosquitto prometheus redis\]/);
});

test('the stack has every service of the contract on its published port', () => {
  const published = (name) => (services[name].ports ?? []).map((port) => String(port).split(':')[0]);
  assert.deepEqual(published('haproxy').includes('8080'), true, 'HAProxy publishes :8080');
  assert.deepEqual(published('prometheus'), ['9090']);
  assert.deepEqual(published('grafana'), ['3000']);
  assert.deepEqual(published('mosquitto').sort(), ['1883', '9001']);
});

test('gateways scale with --scale: three replicas, no container name, no host port', () => {
  const gateway = services.gateway;
  assert.equal(gateway.deploy?.replicas, 3);
  assert.equal(gateway.container_name, undefined);
  assert.equal(gateway.ports, undefined, 'a host port would make a second replica fail to start');
  assert.equal(services.bridge.deploy?.replicas, 2);
  assert.equal(services.bridge.container_name, undefined);
  assert.equal(services.bridge.ports, undefined);
});

test('gateways get longer to stop than they take to drain', () => {
  const gateway = services.gateway;
  const drainSeconds = Number(gateway.environment.DRAIN_SECONDS);
  const graceSeconds = Number.parseInt(gateway.stop_grace_period, 10);
  assert.equal(gateway.stop_signal, 'SIGTERM');
  assert.ok(graceSeconds > drainSeconds, `stop_grace_period ${graceSeconds}s must exceed DRAIN_SECONDS ${drainSeconds}`);
});

test('every service has a health check and starts after the services it needs', () => {
  for (const [name, service] of Object.entries(services)) {
    assert.ok(Array.isArray(service.healthcheck?.test), `${name} has no healthcheck`);
  }
  const waitsFor = (name, dependency, condition) =>
    assert.equal(services[name].depends_on?.[dependency]?.condition, condition, `${name} waits for ${dependency} ${condition}`);
  waitsFor('gateway', 'redis', 'service_healthy');
  waitsFor('bridge', 'redis', 'service_healthy');
  waitsFor('bridge', 'mosquitto', 'service_healthy');
  waitsFor('haproxy', 'gateway', 'service_healthy');
  waitsFor('grafana', 'prometheus', 'service_healthy');
});

test('state lives in named volumes and Redis keeps an append-only file', () => {
  const named = Object.keys(compose.volumes);
  for (const [service, target] of [['redis', '/data'], ['mosquitto', '/mosquitto/data'], ['prometheus', '/prometheus'], ['grafana', '/var/lib/grafana']]) {
    const mount = services[service].volumes.find((volume) => volume.split(':')[1] === target);
    assert.ok(mount, `${service} mounts ${target}`);
    assert.ok(named.includes(mount.split(':')[0]), `${service}'s ${target} is a named volume`);
  }
  const redisArgs = services.redis.command.join(' ');
  assert.match(redisArgs, /--appendonly yes/);
  assert.match(redisArgs, /--maxmemory-policy noeviction/, 'evicting keys would silently drop history');
});

test('nothing needs creating or editing before the first up: every bind-mounted path exists', () => {
  for (const [name, service] of Object.entries(services)) {
    for (const volume of service.volumes ?? []) {
      const source = volume.split(':')[0];
      if (!source.startsWith('.')) continue;
      assert.ok(existsSync(repoPath(source)), `${name} mounts ${source}, which is not in the repository`);
    }
    if (service.build) {
      assert.ok(existsSync(repoPath(service.build.context, service.build.dockerfile)), `${name}'s Dockerfile exists`);
    }
  }
  for (const file of ['mosquitto.conf', 'acl']) {
    assert.ok(existsSync(repoPath('deploy/mosquitto', file)), `deploy/mosquitto/${file} (the MQTT bridge's) is missing`);
  }
});

test('services reach each other by service name on their container ports', () => {
  const env = (name) => services[name].environment;
  assert.equal(env('gateway').REDIS_URL, 'redis://redis:6379');
  assert.equal(env('bridge').REDIS_URL, 'redis://redis:6379');
  assert.equal(env('bridge').MQTT_URL, 'mqtt://mosquitto:1883');
  assert.equal(env('gateway').PORT, '8080', 'HAProxy and Prometheus expect gateways on 8080');
  assert.equal(env('bridge').PORT, '9464', 'Prometheus expects bridges on 9464');
  assert.equal(env('gateway').NODE_ID, undefined, 'NODE_ID defaults to the hostname, unique per replica');
});
