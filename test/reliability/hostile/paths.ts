/**
 * The path family: ids that are not ids (signs, decimals, exponents, leading zeros, 2^31,
 * unicode digits, NUL, lone surrogates, RTL and zero-width marks, encoded slashes, dot
 * segments), very long ids (up to 12,000 characters, and past the 16 KiB header limit),
 * extra segments, and ids that are well-formed but exist nowhere (404).
 */
import fc from 'fast-check';
import { OVER_HEADER_LIMIT, type Parts, type WeightedFamily } from './families.ts';
import { MAX_INT32, nastyString, pct } from './values.ts';

/** Path segments that are not a positive 32-bit decimal id, percent-encoded as a client would send them. */
export const notAnEntityId: fc.Arbitrary<{ segment: string; defect: string }> = fc
  .oneof(
    fc
      .constantFrom(
        '0', '-1', '-0', '+1', '1.5', '1.0', '1e3', '1E3', '007', '01', '0x1F', '0b1', '2147483648', '4294967297', '99999999999',
        '9007199254740993', '1e308', 'NaN', 'Infinity', '-Infinity', 'null', 'undefined', 'true', '[1]', '{}', ' 1', '1 ', '\t1',
        '1\u0000', '\u0000', '1/2', '/', '1\\2', '.', '..', '...', '~1', '1;2', '1,2', '\u0661', '\uff11', '\u00b9', '1\u200b',
        '\u202e1', '\ud800', '1\udfff', '1#', '1?',
      )
      .map((id) => ({ segment: id === '.' || id === '..' ? id : pct(id), defect: `id ${JSON.stringify(id)}` })),
    fc.constantFrom('%2F', '1%2F2', '1%2f', '%2E', '%2E%2E', '%2e%2e%2f1', '%E0%A4%A', '%ZZ', '%', '1%', '%u0031', '%C0%AF', '%ED%A0%80').map((segment) => ({
      segment,
      defect: `encoded id ${segment}`,
    })),
    nastyString.map((s) => ({ segment: pct(s), defect: 'unicode id' })),
    fc.integer({ min: 11, max: 12_000 }).map((n) => ({ segment: '1'.repeat(n), defect: `id of ${n} digits` })),
    fc.integer(OVER_HEADER_LIMIT).map((n) => ({ segment: '9'.repeat(n), defect: `id of ${n} digits (past the header limit)` })),
  )
  .filter(({ segment }) => {
    const id = decodeURIComponentSafe(segment);
    return !(/^[1-9][0-9]{0,9}$/.test(id) && Number(id) <= MAX_INT32);
  });

/** Path segments that are not a UUID: near misses of a real one, nasty strings, very long ones. */
export const notAUuid: fc.Arbitrary<{ segment: string; defect: string }> = fc
  .oneof(
    fc.tuple(fc.uuid(), fc.nat(35), fc.constantFrom('drop', 'insert', 'replace', 'no hyphens', 'braces', 'urn', 'spaces', 'doubled', 'slash', 'nul')).map(
      ([uuid, at, how]) => {
        const near =
          how === 'drop'
            ? uuid.slice(0, at) + uuid.slice(at + 1)
            : how === 'insert'
              ? `${uuid.slice(0, at)}a${uuid.slice(at)}`
              : how === 'replace'
                ? `${uuid.slice(0, at)}g${uuid.slice(at + 1)}`
                : how === 'no hyphens'
                  ? uuid.replace(/-/g, '')
                  : how === 'braces'
                    ? `{${uuid}}`
                    : how === 'urn'
                      ? `urn:uuid:${uuid}`
                      : how === 'spaces'
                        ? ` ${uuid} `
                        : how === 'doubled'
                          ? uuid + uuid
                          : how === 'slash'
                            ? `${uuid}/x`
                            : `${uuid}\u0000`;
        return { segment: pct(near), defect: `UUID near miss (${how})` };
      },
    ),
    fc.uuid().map((uuid) => ({ segment: `${uuid}%E2%80%8B`, defect: 'UUID with a zero-width space' })),
    fc.uuid().map((uuid) => ({ segment: `%E2%80%AE${uuid}`, defect: 'UUID after an RTL override' })),
    fc.uuid().map((uuid) => ({ segment: `${uuid}%ED%A0%80`, defect: 'UUID with a lone surrogate' })),
    fc.constantFrom('.', '..', '%2E%2E', '%2F', '%00', '0', '-1', 'null', '00000000-0000-0000-0000-00000000000g').map((segment) => ({ segment, defect: `id ${segment}` })),
    nastyString.map((s) => ({ segment: pct(s), defect: 'unicode id' })),
    fc.integer({ min: 37, max: 12_000 }).map((n) => ({ segment: 'a'.repeat(n), defect: `id of ${n} characters` })),
    fc.integer(OVER_HEADER_LIMIT).map((n) => ({ segment: 'f'.repeat(n), defect: `id of ${n} characters (past the header limit)` })),
  )
  .filter(({ segment }) => {
    const id = decodeURIComponentSafe(segment);
    return !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id);
  });

/**
 * `template` with `:id` replaced by each invalid id (weight 4) or absent id (when given),
 * and structural variants of a valid id's path that match no route. `rest` gives the
 * headers and body of a request to a target.
 */
export function pathFamilies(
  method: string,
  template: string,
  validId: fc.Arbitrary<string>,
  invalidId: fc.Arbitrary<{ segment: string; defect: string }>,
  absentId: fc.Arbitrary<string> | undefined,
  rest: (target: string) => Omit<Parts, 'method' | 'target' | 'defects'>,
): WeightedFamily[] {
  const at = (id: string) => template.replace(':id', id);
  const families: WeightedFamily[] = [
    [invalidId.map(({ segment, defect }) => ({ method, target: at(segment), defects: [defect], ...rest(at(segment)) })), 4],
    fc
      .tuple(validId, fc.constantFrom('extra segment', 'encoded slash', 'double slash', 'leading double slash', 'dot segment', 'dot-dot segment'))
      .map(([id, how]) => {
        const target =
          how === 'extra segment'
            ? `${at(id)}/x`
            : how === 'encoded slash'
              ? `${at(id)}%2Fx`
              : how === 'double slash'
                ? at(`/${id}`)
                : how === 'leading double slash'
                  ? `/${at(id)}`
                  : how === 'dot segment'
                    ? `${at(id)}/.`
                    : `${at(id)}/..`;
        return { method, target, defects: [`path with ${how}`], ...rest(target) };
      }),
  ];
  if (absentId) families.push(absentId.map((id) => ({ method, target: at(id), defects: [`id ${id} exists nowhere`], ...rest(at(id)) })));
  return families;
}

/** `decodeURIComponent(text)`, or `text` as is when it is no valid percent-encoding (as the router keeps it). */
export function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
