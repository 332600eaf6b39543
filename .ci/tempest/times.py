#!/usr/bin/python3
"""How long each Tempest test class takes, so that workers get even shares.

stestr keeps a class on one worker and, in a fresh workspace with no recorded times,
deals classes out round-robin: one worker can get most of the slow server classes and
the run waits for it. The checked-in times.tsv (one line per class: a test id of the
class, the class's seconds) is loaded into the workspace's stestr repository before the
run as a stream of synthetic results, one per class; stestr then schedules the longest
classes first, on the least loaded worker.

    times.py record RESULTS.subunit > times.tsv   # after a run (report.py's input)
    times.py seed times.tsv > seed.subunit        # then: stestr load < seed.subunit

Times only steer scheduling: stale or missing lines make a run slower, never wrong.
"""
import collections
import datetime
import sys

import subunit
import testtools


def class_of(test_id):
    return test_id.split('[')[0].rsplit('.', 1)[0]


def record(path):
    """Per class: its first test id and the seconds its worker spent on it, counted from
    the end of the worker's previous test (so class setup is included)."""
    per_worker = collections.defaultdict(list)

    def on_test(test):
        start, stop = test['timestamps']
        if test['status'] in ('success', 'fail', 'skip') and start and stop and \
                test['id'].startswith('tempest.'):
            worker = sorted(t for t in test['tags'] if t.startswith('worker-'))
            per_worker[worker[0] if worker else ''].append((start, stop, test['id']))

    with open(path, 'rb') as f:
        result = testtools.StreamToDict(on_test)
        result.startTestRun()
        subunit.ByteStreamToStreamResult(f, non_subunit_name='stdout').run(result)
        result.stopTestRun()

    seconds = collections.Counter()
    first = {}
    for tests in per_worker.values():
        tests.sort()
        prev_stop = None
        for start, stop, tid in tests:
            cls = class_of(tid)
            first.setdefault(cls, tid)
            begin = prev_stop if prev_stop and prev_stop < start else start
            seconds[cls] += (stop - begin).total_seconds()
            prev_stop = stop
    print('# test id (first of its class)\tseconds the class took (times.py record)')
    for cls in sorted(first):
        print('%s\t%.1f' % (first[cls], seconds[cls]))


def seed(path):
    out = subunit.StreamResultToBytes(sys.stdout.buffer)
    t0 = datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc)
    for line in open(path):
        if line.startswith('#') or not line.strip():
            continue
        tid, secs = line.rstrip('\n').split('\t')
        out.status(test_id=tid, test_status='inprogress', timestamp=t0)
        out.status(test_id=tid, test_status='success',
                   timestamp=t0 + datetime.timedelta(seconds=float(secs)))


if __name__ == '__main__':
    if len(sys.argv) != 3 or sys.argv[1] not in ('record', 'seed'):
        sys.exit(__doc__)
    {'record': record, 'seed': seed}[sys.argv[1]](sys.argv[2])
