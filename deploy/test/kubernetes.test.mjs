// deploy/k8s: kustomize renders the base and the KEDA overlay; kubeconform validates every built-in
// object strictly against the Kubernetes OpenAPI schemas (shipped by PyPI's kubernetes-validate),
// keda-check validates ScaledObjects against KEDA's own API types; the rest checks that the objects
// fit together (names, selectors, drain timing).
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { freePort, portOpen, startProcess, waitFor } from '@chat/testkit';
import { startLoopbackClusterNodes } from './lib/redis-cluster-nodes.mjs';
import { cachedTool, kubernetesSchemaDir, readRepoFile, repoPath, run } from './lib/tools.mjs';

async function build(dir) {
  const { code, stdout, stderr } = await run(cachedTool('kustomize'), ['build', repoPath(dir)]);
  assert.equal(code, 0, `kustomize build ${dir} failed:\n${stderr}`);
  return stdout;
}

function objects(yamlText) {
  return parseAllDocuments(yamlText).map((doc) => doc.toJS()).filter(Boolean);
}

async function kubeconform(yamlText) {
  const { version, dir } = kubernetesSchemaDir();
  return run(
    cachedTool('kubeconform'),
    ['-strict', '-summary', '-skip', 'ScaledObject', '-kubernetes-version', version.replace(/^v/, ''),
      '-schema-location', `${dir}/{{ .ResourceKind }}{{ .KindSuffix }}.json`, '-'],
    { input: yamlText },
  );
}

const find = (list, kind, name) => list.find((o) => o.kind === kind && (name === undefined || o.metadata.name === name));

describe('the kustomize base', () => {
  let rendered;
  let list;
  before(async () => {
    rendered = await build('deploy/k8s/base');
    list = objects(rendered);
  });

  test('renders, and every object validates against the Kubernetes schemas', async () => {
    const { code, stdout, stderr } = await kubeconform(rendered);
    assert.equal(code, 0, `kubeconform:\n${stdout}${stderr}`);
    assert.match(stdout, new RegExp(`Valid: ${list.length}, Invalid: 0, Errors: 0, Skipped: 0`));
  });

  test('has every piece of the cluster, all in the chat namespace', () => {
    for (const [kind, name] of [
      ['Deployment', 'gateway'], ['Service', 'gateway'], ['PodDisruptionBudget', 'gateway'],
      ['HorizontalPodAutoscaler', 'gateway'], ['ConfigMap', 'gateway-config'], ['Secret', 'chat-secrets'],
      ['Deployment', 'mqtt-bridge'], ['ConfigMap', 'bridge-config'], ['StatefulSet', 'redis'], ['Service', 'redis'],
      ['Deployment', 'mosquitto'], ['Service', 'mosquitto'],
    ]) {
      assert.ok(find(list, kind, name), `${kind} ${name}`);
    }
    assert.ok(find(list, 'ConfigMap', undefined) && list.some((o) => o.metadata.name.startsWith('mosquitto-config-')));
    assert.equal(find(list, 'ScaledObject'), undefined, 'KEDA lives in overlays/keda, not beside the HPA');
    for (const o of list.filter((o) => o.kind !== 'Namespace')) assert.equal(o.metadata.namespace, 'chat', `${o.kind} ${o.metadata.name}`);
  });

  test('the gateway drains inside its grace period and a rollout never lowers capacity', () => {
    const deployment = find(list, 'Deployment', 'gateway');
    const pod = deployment.spec.template.spec;
    const [container] = pod.containers;
    const drainSeconds = Number(find(list, 'ConfigMap', 'gateway-config').data.DRAIN_SECONDS);
    const preStopSeconds = Number(container.lifecycle.preStop.exec.command.at(-1));
    assert.ok(pod.terminationGracePeriodSeconds > preStopSeconds + drainSeconds,
      `terminationGracePeriodSeconds ${pod.terminationGracePeriodSeconds} > preStop ${preStopSeconds} + DRAIN_SECONDS ${drainSeconds}`);
    assert.equal(container.readinessProbe.httpGet.path, '/readyz');
    assert.equal(container.livenessProbe.httpGet.path, '/healthz');
    assert.equal(deployment.spec.strategy.rollingUpdate.maxUnavailable, 0);
    assert.deepEqual(pod.topologySpreadConstraints.map((c) => c.topologyKey), ['kubernetes.io/hostname', 'topology.kubernetes.io/zone']);
    assert.ok(container.resources.requests.cpu && container.resources.requests.memory && container.resources.limits.memory);
    assert.equal(pod.securityContext.runAsNonRoot, true);
    assert.equal(container.image, 'chat-cluster/gateway:0.1.0');
  });

  test('services, disruption budget and autoscaler select the pods they are meant for', () => {
    const podLabels = (kind, name) => find(list, kind, name).spec.template.metadata.labels;
    const matches = (selector, labels) => Object.entries(selector).every(([k, v]) => labels[k] === v);
    assert.ok(matches(find(list, 'Service', 'gateway').spec.selector, podLabels('Deployment', 'gateway')));
    assert.ok(matches(find(list, 'Service', 'redis').spec.selector, podLabels('StatefulSet', 'redis')));
    assert.ok(matches(find(list, 'Service', 'mosquitto').spec.selector, podLabels('Deployment', 'mosquitto')));
    assert.ok(matches(find(list, 'PodDisruptionBudget', 'gateway').spec.selector.matchLabels, podLabels('Deployment', 'gateway')));
    assert.deepEqual(find(list, 'HorizontalPodAutoscaler', 'gateway').spec.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'Deployment', name: 'gateway' });
  });

  test('every ConfigMap, Secret and claim a pod refers to is in the build', () => {
    const names = new Set(list.map((o) => `${o.kind}/${o.metadata.name}`));
    for (const workload of list.filter((o) => o.spec?.template?.spec)) {
      const pod = workload.spec.template.spec;
      const refs = [];
      for (const container of pod.containers) {
        for (const source of container.envFrom ?? []) {
          if (source.configMapRef) refs.push(`ConfigMap/${source.configMapRef.name}`);
          if (source.secretRef) refs.push(`Secret/${source.secretRef.name}`);
        }
      }
      for (const volume of pod.volumes ?? []) {
        if (volume.configMap) refs.push(`ConfigMap/${volume.configMap.name}`);
        if (volume.secret) refs.push(`Secret/${volume.secret.secretName}`);
        if (volume.persistentVolumeClaim) refs.push(`PersistentVolumeClaim/${volume.persistentVolumeClaim.claimName}`);
      }
      for (const ref of refs) assert.ok(names.has(ref), `${workload.kind} ${workload.metadata.name} refers to ${ref}`);
    }
  });

  test('a readiness probe tolerates one slow or failed answer, and its timeout fits its period', () => {
    const containers = list.filter((o) => o.spec?.template?.spec).flatMap((o) => o.spec.template.spec.containers.map((c) => ({ owner: `${o.kind} ${o.metadata.name}`, c })));
    const probed = containers.filter(({ c }) => c.readinessProbe);
    assert.ok(probed.some(({ owner }) => owner === 'Deployment gateway') && probed.some(({ owner }) => owner === 'Deployment mqtt-bridge'));
    for (const { owner, c } of probed) {
      // Kubernetes' defaults: failureThreshold 3, timeoutSeconds 1, periodSeconds 10.
      const { failureThreshold = 3, timeoutSeconds = 1, periodSeconds = 10 } = c.readinessProbe;
      assert.ok(failureThreshold >= 2, `${owner}: readiness failureThreshold ${failureThreshold} turns one slow answer into an outage`);
      assert.ok(timeoutSeconds >= 2 && timeoutSeconds <= periodSeconds, `${owner}: readiness timeoutSeconds ${timeoutSeconds} must be 2 s or more and at most periodSeconds ${periodSeconds}`);
    }
  });

  test('the Secret holds placeholders only, named as such', () => {
    for (const [key, value] of Object.entries(find(list, 'Secret', 'chat-secrets').stringData)) {
      assert.match(value, /^REPLACE-ME-/, `${key} is a visible placeholder`);
    }
  });

  test("Mosquitto's configuration and ACL are deploy/mosquitto's production ones", () => {
    const withoutComments = (text) => text.split('\n').filter((line) => !line.startsWith('#')).join('\n').trim();
    for (const [file, source] of [['mosquitto.conf', 'mosquitto.prod.conf'], ['acl.prod', 'acl.prod']]) {
      const shared = repoPath('deploy/mosquitto', source);
      assert.ok(existsSync(shared), `deploy/mosquitto/${source} is missing`);
      assert.equal(
        withoutComments(readRepoFile('deploy/k8s/base/mosquitto', file)),
        withoutComments(readFileSync(shared, 'utf8')),
        `copy deploy/mosquitto/${source} to deploy/k8s/base/mosquitto/${file} (kustomize reads only files under its folder)`,
      );
    }
  });

  test('the Kubernetes Mosquitto, run as its pod assembles it, refuses anonymous clients and admits the accounts', async (t) => {
    const pod = find(list, 'Deployment', 'mosquitto').spec.template.spec;
    const configMap = list.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('mosquitto-config-'));
    const conf = configMap.data['mosquitto.conf'];
    assert.match(conf, /^allow_anonymous false$/m);
    assert.match(conf, /^password_file \/mosquitto\/config\/passwd$/m);
    const accountsVolume = pod.volumes.find((v) => v.secret);
    assert.equal(find(list, 'Secret', accountsVolume.secret.secretName)?.metadata.name, 'mosquitto-accounts', 'the device accounts come from a Secret in the build');
    const [init] = pod.initContainers;
    assert.equal(init.env.find((e) => e.name === 'MQTT_PASSWORD').valueFrom.secretKeyRef.name, 'chat-secrets');

    // The pod's folders, here in a temporary directory: /config-map (the ConfigMap), /accounts (the
    // Secret, with one device account), /mosquitto/config and /mosquitto/data; the listeners on loopback.
    const dir = mkdtempSync(join(tmpdir(), 'k8s-mosquitto-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    chmodSync(dir, 0o777);
    const [port, wsPort] = [await freePort(), await freePort()];
    const local = (text) => text.replaceAll('/mosquitto/', `${dir}/mosquitto/`).replaceAll('/config-map/', `${dir}/config-map/`).replaceAll('/accounts/', `${dir}/accounts/`);
    for (const folder of ['config-map', 'accounts', 'mosquitto/config', 'mosquitto/data']) mkdirSync(join(dir, folder), { recursive: true, mode: 0o777 });
    writeFileSync(join(dir, 'config-map/mosquitto.conf'), local(conf).replace('listener 1883', `listener ${port} 127.0.0.1`).replace('listener 9001', `listener ${wsPort} 127.0.0.1`));
    writeFileSync(join(dir, 'config-map/acl.prod'), configMap.data['acl.prod']);
    writeFileSync(join(dir, 'accounts/passwd'), '');
    const devicePasswd = await run('mosquitto_passwd', ['-b', join(dir, 'accounts/passwd'), 'sensor-1', 'device-secret']);
    assert.equal(devicePasswd.code, 0, devicePasswd.stderr);
    const assemble = await run('env', ['MQTT_PASSWORD=bridge-secret', 'sh', '-c', local(init.command.at(-1))]);
    assert.equal(assemble.code, 0, `the init container's command: ${assemble.stderr}`);
    for (const folder of ['mosquitto', 'mosquitto/config', 'mosquitto/data']) chmodSync(join(dir, folder), 0o777);
    const broker = startProcess('mosquitto', ['-c', local(pod.containers[0].command.at(-1))]);
    t.after(() => broker.stop());
    await waitFor('mosquitto to listen', async () => ((await portOpen(port)) ? true : undefined), 10_000).catch((error) => assert.fail(`${error.message}\n${broker.output()}`));

    const publish = (...auth) => run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(port), ...auth, '-t', 'chat/rooms/lobby/send/sensor-1', '-m', 'hi', '-q', '1']);
    const anonymous = await publish();
    assert.notEqual(anonymous.code, 0, 'an anonymous client is refused');
    assert.match(anonymous.stderr, /not authori[sz]ed/i);
    assert.notEqual((await publish('-u', 'chat-bridge', '-P', 'wrong')).code, 0, 'a wrong password is refused');
    assert.equal((await publish('-u', 'sensor-1', '-P', 'device-secret')).code, 0, 'the device account of the Secret is admitted');
    assert.equal((await publish('-u', 'chat-bridge', '-P', 'bridge-secret')).code, 0, "the bridge's account from MQTT_PASSWORD is admitted");
  });
});

describe('the KEDA overlay', () => {
  let rendered;
  let list;
  before(async () => {
    rendered = await build('deploy/k8s/overlays/keda');
    list = objects(rendered);
  });

  test('renders, and every object validates against the Kubernetes schemas and KEDA types', async () => {
    const builtIn = await kubeconform(rendered);
    assert.equal(builtIn.code, 0, `kubeconform:\n${builtIn.stdout}${builtIn.stderr}`);
    const keda = await run(cachedTool('keda-check'), [], { input: rendered });
    assert.equal(keda.code, 0, `keda-check:\n${keda.stdout}${keda.stderr}`);
    assert.match(keda.stdout, /valid: ScaledObject gateway -> gateway/);
  });

  test('replaces the CPU autoscaler with a ScaledObject on connections per pod', () => {
    assert.equal(find(list, 'HorizontalPodAutoscaler'), undefined, 'two autoscalers would fight over the replica count');
    const scaled = find(list, 'ScaledObject', 'gateway');
    assert.equal(scaled.metadata.namespace, 'chat');
    assert.equal(scaled.spec.scaleTargetRef.name, 'gateway');
    const prometheus = scaled.spec.triggers.find((trigger) => trigger.type === 'prometheus');
    assert.match(prometheus.metadata.query, /chat_connections\b/);
    assert.equal(prometheus.metricType, 'AverageValue', 'the threshold is per pod');
    assert.ok(scaled.spec.triggers.some((trigger) => trigger.type === 'cpu'));
  });
});

describe('the Redis Cluster overlay', () => {
  let rendered;
  let list;
  before(async () => {
    rendered = await build('deploy/k8s/overlays/redis-cluster');
    list = objects(rendered);
  });

  test('renders, and every object validates against the Kubernetes schemas', async () => {
    const { code, stdout, stderr } = await kubeconform(rendered);
    assert.equal(code, 0, `kubeconform:\n${stdout}${stderr}`);
    assert.match(stdout, new RegExp(`Valid: ${list.length}, Invalid: 0, Errors: 0, Skipped: 0`));
  });

  test('replaces the single Redis with six cluster nodes behind a headless Service, and a Job that joins them', () => {
    assert.equal(find(list, 'StatefulSet', 'redis'), undefined, 'the single Redis is removed');
    assert.equal(find(list, 'Service', 'redis'), undefined);
    const nodes = find(list, 'StatefulSet', 'redis-cluster');
    const service = find(list, 'Service', nodes.spec.serviceName);
    assert.equal(nodes.spec.replicas, 6);
    assert.equal(service.spec.clusterIP, 'None');
    assert.equal(service.spec.publishNotReadyAddresses, true, 'nodes and the Job find pods before the cluster exists');
    const labels = nodes.spec.template.metadata.labels;
    assert.ok(Object.entries(service.spec.selector).every(([k, v]) => labels[k] === v));
    assert.deepEqual(service.spec.ports.map((p) => p.port).sort(), [16379, 6379], 'clients and the cluster bus');
    const [container] = nodes.spec.template.spec.containers;
    const args = container.args.join(' ');
    for (const flag of ['--cluster-enabled yes', '--appendonly yes', '--cluster-config-file /data/nodes.conf', '--dir /data',
      `--cluster-announce-hostname $(POD_NAME).${service.metadata.name}`, '--cluster-preferred-endpoint-type hostname', '--maxmemory-policy noeviction']) {
      assert.ok(args.includes(flag), `the nodes run with ${flag}`);
    }
    assert.equal(container.env.find((e) => e.name === 'POD_NAME')?.valueFrom?.fieldRef?.fieldPath, 'metadata.name');
    assert.equal(container.volumeMounts.find((m) => m.mountPath === '/data')?.name, nodes.spec.volumeClaimTemplates[0].metadata.name);
    const budget = find(list, 'PodDisruptionBudget', 'redis-cluster');
    assert.equal(budget.spec.maxUnavailable, 1);

    const script = find(list, 'Job', 'redis-cluster-create').spec.template.spec.containers[0].command.at(-1);
    assert.match(script, /redis-cli --cluster create \$nodes --cluster-replicas 1 --cluster-yes/);
    const seeds = Array.from({ length: 6 }, (_, i) => `redis-cluster-${i}.redis-cluster:6379`);
    assert.match(script, new RegExp(`^nodes="${seeds.join(' ')}"$`, 'm'), 'the Job joins every node');
  });

  test("the nodes' arguments and the Job's script form a cluster on loopback, and a second run leaves it alone", { timeout: 90_000 }, async () => {
    const [container] = find(list, 'StatefulSet', 'redis-cluster').spec.template.spec.containers;
    // Kubernetes expands $(POD_NAME) in args; here each node gets the name of its pod.
    const nodes = await startLoopbackClusterNodes(Array.from({ length: 6 }, (_, i) => container.args.map((a) => a.replace('$(POD_NAME)', `redis-cluster-${i}`))));
    try {
      const script = find(list, 'Job', 'redis-cluster-create').spec.template.spec.containers[0].command.at(-1)
        .replace(/^nodes=".*"$/m, `nodes="${nodes.ports.map((p) => `127.0.0.1:${p}`).join(' ')}"`);
      const first = await run('bash', ['-ec', script], { timeoutMs: 80_000 });
      assert.equal(first.code, 0, `the Job's script failed:\n${first.stdout}${first.stderr}`);
      assert.match(first.stdout, /All 16384 slots covered/);
      const second = await run('bash', ['-ec', script], { timeoutMs: 20_000 });
      assert.equal(second.code, 0, second.stderr);
      assert.match(second.stdout, /already formed/);
      const moved = await run('bash', ['-c', `for p in ${nodes.ports.join(' ')}; do redis-cli -p $p set chat:{room:1}:probe 1; done`]);
      assert.match(moved.stdout, /MOVED \d+ redis-cluster-\d\.redis-cluster:\d+/, 'redirections name the pods');
    } finally {
      await nodes.stop();
    }
  });

  test('gateways and the bridge get REDIS_CLUSTER_NODES naming every node, and no REDIS_URL', () => {
    const nodes = find(list, 'StatefulSet', 'redis-cluster');
    const seeds = Array.from({ length: nodes.spec.replicas }, (_, i) => `${nodes.metadata.name}-${i}.${nodes.spec.serviceName}:6379`);
    for (const [workload, config] of [['gateway', 'gateway-config'], ['mqtt-bridge', 'bridge-config']]) {
      const data = find(list, 'ConfigMap', config).data;
      assert.equal(Object.hasOwn(data, 'REDIS_URL'), false, `${config} still has REDIS_URL`);
      assert.deepEqual(data.REDIS_CLUSTER_NODES.split(','), seeds, config);
      const refs = find(list, 'Deployment', workload).spec.template.spec.containers[0].envFrom.map((s) => s.configMapRef?.name);
      assert.ok(refs.includes(config), `${workload} reads ${config}`);
    }
  });
});
