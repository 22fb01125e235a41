// HostConfig's security fields in a create request: read as Docker's API takes them (CapAdd and
// CapDrop as a list or one string), and shown back by inspect as Docker shows them.
import test from 'ava';
import { containerInspectJson, parseContainerCreate } from '../../src/api/container-json';
import { ApiError } from '../../src/api/errors';
import type { ContainerRecord } from '../../src/launcher';

const parse = (hostConfig: Record<string, unknown>): ReturnType<typeof parseContainerCreate> => parseContainerCreate({ Cmd: ['true'], HostConfig: hostConfig }, undefined, () => '/rootfs');

test('CapAdd, CapDrop, Privileged and SecurityOpt become the container\'s security settings; absent, none', (t) => {
  t.deepEqual(parse({ CapAdd: ['NET_ADMIN'], CapDrop: 'ALL', Privileged: true, SecurityOpt: ['no-new-privileges'] }).security, { capAdd: ['NET_ADMIN'], capDrop: ['ALL'], privileged: true, securityOpt: ['no-new-privileges'] });
  t.deepEqual(parse({ CapAdd: null, Privileged: null }).security, { capAdd: [], capDrop: [], privileged: false, securityOpt: [] });
});

test('wrong types are a 400 naming the field', (t) => {
  for (const [hostConfig, message] of [[{ Privileged: 'yes' }, /HostConfig.Privileged must be true or false/], [{ CapAdd: [1] }, /HostConfig.CapAdd must be a list of strings/], [{ SecurityOpt: 'no-new-privileges' }, /HostConfig.SecurityOpt must be a list of strings/]] as const) {
    const error = t.throws(() => parse(hostConfig), { instanceOf: ApiError, message });
    t.is(error?.status, 400);
  }
});

test('inspect shows CapAdd and CapDrop as null when empty, as Docker', (t) => {
  const record: ContainerRecord = {
    id: 'c'.repeat(64),
    created: new Date(0).toISOString(),
    config: { name: 'c', hostname: 'c', cmd: ['true'], env: [], workdir: '/', rootfs: '/rootfs', network: 'none', aliases: [], ports: [], dns: {}, security: { capAdd: [], capDrop: ['CAP_NET_RAW'], privileged: false, securityOpt: [] }, networks: [] },
    state: { status: 'created' },
  };
  t.like(containerInspectJson(record, undefined, [], '/state'), { HostConfig: { CapAdd: null, CapDrop: ['CAP_NET_RAW'], Privileged: false, SecurityOpt: null } });
});
