#!/usr/bin/env python3
"""The sky130 hd cell netlists with every pMOS body tied to its source (docs/charlib.md,
"Testing the attribution by simulation"): a pull-up stack without body effect, to measure how
much of the stacks' voltage-ratio bias the body effect of the upper devices carries.

  scripts/charlib_bodytie_netlist.py <sky130_fd_sc_hd.spice[.gz]> <out.spice>

The source of a pMOS is the channel terminal nearer VPWR through pMOS channels (not passing
through a stage output, a node the pull-down network also touches); a stage output is always
the drain. Devices with no such order (56 of 4162, pass gates) keep VPB. Every internal node
that becomes a body gets 1 TOhm to VGND, a DC path for the leakage operating points (time
constant about 1 ms: no effect on delays). Then point `spice.cell_netlists` of a copy of
pdk_configs/sky130hd.json at <out.spice> and pass the copy as `--pdk`.
"""
import collections
import gzip
import sys

P, N = 'sky130_fd_pr__pfet_01v8_hvt', 'sky130_fd_pr__nfet_01v8'


def devices(body, model):
    for line in body:
        t = line.split()
        if t and t[0].startswith('X') and len(t) > 5 and t[5] == model:
            yield t


def tie_subckt(body, counts):
    channel = collections.defaultdict(list)
    for t in devices(body, P):
        channel[t[1]].append(t[3])
        channel[t[3]].append(t[1])
    stage_outputs = {node for t in devices(body, N) for node in (t[1], t[3])}
    dist = {'VPWR': 0}
    queue = collections.deque(['VPWR'])
    while queue:
        u = queue.popleft()
        if u in stage_outputs:
            continue  # current from VPWR does not pass through a stage output
        for v in channel[u]:
            if v not in dist:
                dist[v] = dist[u] + 1
                queue.append(v)
    out, bodies = [], set()
    for line in body:
        t = line.split()
        if line.startswith('.ends'):
            out += ['Rbodytie%d %s VGND 1e12' % (k, node) for k, node in enumerate(sorted(bodies))]
        if t and t[0].startswith('X') and len(t) > 5 and t[5] == P:
            a, b = t[1], t[3]
            if (a in stage_outputs) != (b in stage_outputs):
                source = b if a in stage_outputs else a
            else:
                da, db = dist.get(a, 99), dist.get(b, 99)
                source = a if da < db else b if db < da else None
            if source is None:
                counts['kept'] += 1
            else:
                t[4] = source
                counts['tied'] += 1
                if source not in ('VPWR', 'VPB'):
                    bodies.add(source)
            line = ' '.join(t)
        out.append(line)
    return out


def main():
    src, dst = sys.argv[1], sys.argv[2]
    opener = gzip.open if src.endswith('.gz') else open
    with opener(src, 'rt') as f:
        lines = f.read().split('\n')
    out, counts, i = [], collections.Counter(), 0
    while i < len(lines):
        if lines[i].startswith('.subckt'):
            j = i
            while not lines[j].startswith('.ends'):
                j += 1
            out += tie_subckt(lines[i:j + 1], counts)
            i = j + 1
        else:
            out.append(lines[i])
            i += 1
    with open(dst, 'w') as f:
        f.write('\n'.join(out))
    print('%d pMOS bodies tied to their sources, %d left at VPB' % (counts['tied'], counts['kept']))


if __name__ == '__main__':
    main()
