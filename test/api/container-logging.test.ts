// HostConfig.LogConfig: netctl has one log driver. docker-compose sends an empty LogConfig and
// shows logs only of containers whose inspect names a driver; any other driver or option is
// refused, not dropped.
import test from 'ava';
import { containerInspectJson, parseContainerCreate } from '../../src/api/container-json';
import { ApiError } from '../../src/api/errors';
import type { ContainerRecord } from '../../src/launcher';

const parse = (logConfig: unknown): ReturnType<typeof parseContainerCreate> => parseContainerCreate({ Cmd: ['true'], HostConfig: { LogConfig: logConfig } }, undefined, () => '/rootfs');

test('an empty LogConfig (docker-compose\'s) or netctl\'s own driver is taken', (t) => {
  for (const logConfig of [{ Type: '', Config: {} }, { Type: 'netctl' }, {}, null]) t.notThrows(() => parse(logConfig), JSON.stringify(logConfig));
});

test('another log driver, log options or a LogConfig of the wrong type are a 400 that says what to do', (t) => {
  for (const [logConfig, message] of [
    [{ Type: 'json-file', Config: {} }, /HostConfig\.LogConfig\.Type "json-file" \(--log-driver\) is not supported by netctl: .*run without it/],
    [{ Type: 'syslog' }, /"syslog" \(--log-driver\)/],
    [{ Type: '', Config: { 'max-size': '1m' } }, /HostConfig\.LogConfig\.Config \(--log-opt\) is not supported/],
    ['json-file', /HostConfig\.LogConfig must be an object/],
  ] as const) {
    const error = t.throws(() => parse(logConfig), { instanceOf: ApiError, message });
    t.is(error?.status, 400);
  }
});

test('inspect says how to read the logs: netctl\'s log driver (dockerd names json-file), no TTY', (t) => {
  const record: ContainerRecord = {
    id: 'c'.repeat(64),
    created: new Date(0).toISOString(),
    config: { name: 'c', hostname: 'c', cmd: ['true'], env: [], workdir: '/', rootfs: '/rootfs', network: 'none', aliases: [], ports: [], dns: {}, security: { capAdd: [], capDrop: [], privileged: false, securityOpt: [] }, networks: [] },
    state: { status: 'created' },
  };
  t.like(containerInspectJson(record, undefined, [], '/state'), { Config: { Tty: false }, HostConfig: { LogConfig: { Type: 'netctl', Config: {} } } });
});
