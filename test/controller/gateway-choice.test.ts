// Which endpoint of a sandbox carries each family's default route, and what a connect or
// disconnect changes: pure, checked case by case and against a model of the kernel's routes.
import test from 'ava';
import fc from 'fast-check';
import { defaultRouteCarrier, defaultRouteChanges, type GatewayCandidate } from '../../src/controller/gateway-choice';

interface Endpoint extends GatewayCandidate {
  name: string;
}

const both = (name: string, n: number): Endpoint => ({ name, gateway4: `10.0.${n}.1`, gateway6: `fd00:${n}::1` });
const v4 = (name: string, n: number): Endpoint => ({ name, gateway4: `10.0.${n}.1` });
const internal = (name: string): Endpoint => ({ name });
const declining = (name: string, n: number): Endpoint => ({ ...both(name, n), noGatewayService: true });

test('the carrier of a family is the first connected endpoint offering a gateway of that family', (t) => {
  const [a, b, c] = [internal('a'), v4('b', 2), both('c', 3)];
  t.is(defaultRouteCarrier([a, b, c], 'ipv4'), b);
  t.is(defaultRouteCarrier([a, b, c], 'ipv6'), c);
  t.is(defaultRouteCarrier([a], 'ipv4'), undefined);
  t.is(defaultRouteCarrier([], 'ipv6'), undefined);
});

test('an endpoint whose driver disabled the gateway service never carries a default route', (t) => {
  const [off, on] = [declining('off', 1), both('on', 2)];
  t.is(defaultRouteCarrier([off, on], 'ipv4'), on);
  t.is(defaultRouteCarrier([off, on], 'ipv6'), on);
  t.is(defaultRouteCarrier([off], 'ipv4'), undefined);
  t.deepEqual(defaultRouteChanges([], [off]), {}, 'joining alone, it sets no default route');
  t.deepEqual(defaultRouteChanges([on], [on, off]), {});
  t.deepEqual(defaultRouteChanges([on, off], [off]), {}, 'nor does it take the route over when the carrier leaves');
});

test('a connect sets the routes of the families it becomes the carrier of, and only those', (t) => {
  const [a, b] = [v4('a', 1), both('b', 2)];
  t.deepEqual(defaultRouteChanges([], [a]), { ipv4: '10.0.1.1' });
  t.deepEqual(defaultRouteChanges([a], [a, b]), { ipv6: 'fd00:2::1' }, 'b carries IPv6 only: a keeps IPv4');
  t.deepEqual(defaultRouteChanges([a, b], [a, b]), {}, 'nothing changed, nothing to set');
});

test('when the carrier leaves, the next carrier takes the route; when none is left, nothing is set', (t) => {
  const [a, b, c] = [both('a', 1), internal('b'), both('c', 3)];
  t.deepEqual(defaultRouteChanges([a, b, c], [b, c]), { ipv4: '10.0.3.1', ipv6: 'fd00:3::1' });
  t.deepEqual(defaultRouteChanges([a, b, c], [a, c]), {}, 'a non-carrier leaving changes nothing');
  t.deepEqual(defaultRouteChanges([a, b], [b]), {}, "the carrier's route went with its interface");
});

// The kernel as the core drives it: a default route per family through an endpoint's interface,
// replaced by each change, gone with the interface it uses.
test('over any sequence of connects and disconnects the route of each family goes through its carrier', (t) => {
  const candidate = fc.record({ gateway4: fc.option(fc.constant('v4'), { nil: undefined }), gateway6: fc.option(fc.constant('v6'), { nil: undefined }), noGatewayService: fc.boolean() });
  const step = fc.oneof(fc.record({ connect: candidate }), fc.record({ disconnect: fc.nat() }));
  fc.assert(
    fc.property(fc.array(step, { maxLength: 30 }), (steps) => {
      let endpoints: Array<GatewayCandidate & { id: number }> = [];
      const routes: Partial<Record<'ipv4' | 'ipv6', number>> = {};
      let next = 0;
      for (const s of steps) {
        const before = endpoints;
        if ('connect' in s) {
          const id = next++;
          const { gateway4, gateway6, noGatewayService } = s.connect;
          endpoints = [...endpoints, { id, ...(gateway4 ? { gateway4: `${gateway4}-${id}` } : {}), ...(gateway6 ? { gateway6: `${gateway6}-${id}` } : {}), ...(noGatewayService ? { noGatewayService } : {}) }];
        } else {
          if (endpoints.length === 0) continue;
          const gone = endpoints[s.disconnect % endpoints.length]!;
          endpoints = endpoints.filter((e) => e !== gone);
          for (const family of ['ipv4', 'ipv6'] as const) if (routes[family] === gone.id) delete routes[family];
        }
        for (const [family, gateway] of Object.entries(defaultRouteChanges(before, endpoints)) as Array<['ipv4' | 'ipv6', string]>) {
          routes[family] = Number(gateway.split('-')[1]);
        }
        for (const family of ['ipv4', 'ipv6'] as const) {
          if (routes[family] !== defaultRouteCarrier(endpoints, family)?.id) return false;
        }
      }
      return true;
    }),
    { numRuns: 300 },
  );
  t.pass();
});
