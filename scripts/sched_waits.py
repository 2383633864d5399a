#!/usr/bin/env python3
"""Where a tenant's execs wait for a CPU: reads `perf script` output of `perf sched record`
(sched_switch, sched_waking, sched_wakeup_new, sched_process_fork) and prints, per trace:

- the measured tenant's execs: the forks of the paddock-init that forked most (one per exec), and
  the fork-to-fork cycle's p50 and p99 in ms;
- for that jail's processes and for the host JVM's threads (the process whose threads are named
  paddock-exec-N): wake-ups per exec, waits of over 1 ms (waking to running) per 100 execs, the ms
  so waited per exec, and what ran on that CPU meanwhile (ms, by thread name).

Usage: sched_waits.py NAME=FILE [NAME=FILE ...]   (scripts/sched-waits makes the files)
"""
import bisect
import collections
import re
import sys

LINE = re.compile(r'^\s*(.+?)\s+(\d+)/(\d+)\s+\[(\d+)\]\s+([\d.]+):\s+sched:(\w+):\s+(.*)$')
KERNEL = re.compile(r'^(kworker|ksoftirqd|rcu_|migration|kdamond|kcompactd|kswapd|jbd2)')
LONG_WAIT = 1e-3  # s


def pid_field(rest):
    return re.search(r'(?:^| )pid=(\d+)', rest).group(1)


class Trace:
    def __init__(self, path):
        self.events, self.tgid, self.comm, self.parent = [], {}, {}, {}
        with open(path) as lines:
            for line in lines:
                m = LINE.match(line)
                if not m:
                    continue
                comm, pid, tid, cpu, t, event, rest = m.groups()
                self.tgid[tid] = pid
                self.comm[tid] = comm  # the name it had last: "true" after the exec, not "paddock-init"
                if event == 'sched_process_fork':
                    self.parent[re.search(r'child_pid=(\d+)', rest).group(1)] = pid_field(rest)
                self.events.append((float(t), int(cpu), tid, event, rest))

    def measured_init(self):
        forks = collections.Counter(p for c, p in self.parent.items() if self.comm.get(p, '').startswith('paddock-init'))
        return forks.most_common(1)[0][0]

    def descendants(self, root):
        family, grew = {root}, True
        while grew:
            grew = False
            for child, parent in self.parent.items():
                if parent in family and child not in family:
                    family.add(child)
                    grew = True
        return family

    def host(self):
        return next(self.tgid[t] for t, c in self.comm.items() if c.startswith('paddock-exec'))


def describe(name, trace):
    init = trace.measured_init()
    jail, host = trace.descendants(init), trace.host()
    forks = [t for t, _, tid, e, rest in trace.events if e == 'sched_process_fork' and tid == init]
    cycles = sorted(b - a for a, b in zip(forks, forks[1:]) if b - a < 0.2)  # longer: between batches
    execs = len(cycles)

    def who(tid):
        return 'jail' if tid in jail else 'host' if trace.tgid.get(tid) == host else None

    running, waking = {}, {}
    spans = collections.defaultdict(list)  # cpu -> (start, end, tid)
    waits = collections.defaultdict(list)  # who -> (woken, ran, cpu)
    for t, cpu, tid, event, rest in trace.events:
        if event in ('sched_waking', 'sched_wakeup_new'):
            waking.setdefault(pid_field(rest), t)
        elif event == 'sched_switch':
            prev = re.search(r'prev_pid=(\d+)', rest).group(1)
            nxt = re.search(r'next_pid=(\d+)', rest).group(1)
            waking.pop(prev, None)  # woken while it still ran: no wait
            if cpu in running:
                spans[cpu].append((running[cpu][0], t, running[cpu][1]))
            running[cpu] = (t, nxt)
            woken, part = waking.pop(nxt, None), who(nxt)
            if woken is not None and part:
                waits[part].append((woken, t, cpu))
    starts = {cpu: [s[0] for s in v] for cpu, v in spans.items()}

    def ran_meanwhile(cpu, a, b, into):
        v = spans[cpu]
        i = max(0, bisect.bisect_right(starts[cpu], a) - 1)
        while i < len(v) and v[i][0] < b:
            s, e, tid = v[i]
            overlap = min(e, b) - max(s, a)
            if overlap > 0:
                label = 'idle' if tid == '0' else ('host ' if trace.tgid.get(tid) == host else '') + trace.comm.get(tid, '?')
                label = 'measured jail' if tid in jail else 'kernel threads' if KERNEL.match(label) else label
                into[label] += overlap
            i += 1

    print(f'{name}: {execs} execs, cycle p50 {cycles[execs // 2] * 1e3:.2f} ms, p99 {cycles[int(execs * .99)] * 1e3:.2f} ms')
    for part in ('jail', 'host'):
        long_waits = [(a, b, cpu) for a, b, cpu in waits[part] if b - a > LONG_WAIT]
        meanwhile = collections.Counter()
        for a, b, cpu in long_waits:
            ran_meanwhile(cpu, a, b, meanwhile)
        print(f'  {"the measured jail" if part == "jail" else "the host JVM":17s} {len(waits[part]) / execs:5.1f} wake-ups per exec;'
              f' {100 * len(long_waits) / execs:5.1f} waits over 1 ms per 100 execs,'
              f' {sum(b - a for a, b, _ in long_waits) * 1e3 / execs:.3f} ms of them per exec;'
              f' that CPU ran meanwhile (ms): ' + ', '.join(f'{k} {v * 1e3:.0f}' for k, v in meanwhile.most_common(6)))


if __name__ == '__main__':
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    for arg in sys.argv[1:]:
        phase, path = arg.split('=', 1)
        describe(phase, Trace(path))
