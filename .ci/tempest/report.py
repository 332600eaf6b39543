#!/usr/bin/python3
"""Summarise a Tempest run: counts, wall time, and for every failure the call that failed.

Reads RESULTS/results.subunit (`stestr last --subunit`) and RESULTS/tempest.log (every
request and response, `debug = true`), compares with the reference's expected run/skip
list, and writes RESULTS/summary.txt, RESULTS/failures.txt and RESULTS/junit.xml.
Prints the failures (briefly) and the counts. Exit status 1 when a selected test failed,
errored in class setup, never reported, or skipped although the reference expects it to
run; 0 otherwise.
"""
import argparse
import collections
import os
import re
import sys
import xml.etree.ElementTree as ET

import subunit
import testtools

LOG_LINE = re.compile(r'^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ (\d+) (\w+) (\S+) \[[^\]]*\] (.*)$')
REQUEST = re.compile(r'^Request \((\w+):(\w+)\): (\d+) (\w+) (\S+) ([\d.]+)s$')
SETUP_ID = re.compile(r'^(setUpClass|tearDownClass) \((?:\S+\.)?(\w+)\)$')


def base_id(test_id):
    return test_id.split('[')[0]


def read_subunit(path):
    """test id -> (status, details dict of text)."""
    results = {}

    def on_test(test):
        if test['status'] == 'exists':
            return
        details = {}
        for name, content in test['details'].items():
            try:
                details[name] = content.as_text()
            except Exception:  # binary attachments are of no use here
                pass
        start, stop = test['timestamps']
        dur = (stop - start).total_seconds() if start and stop else 0.0
        results[test['id']] = (test['status'], details, dur)

    if not os.path.exists(path):
        return results
    with open(path, 'rb') as f:
        case = subunit.ByteStreamToStreamResult(f, non_subunit_name='stdout')
        result = testtools.StreamToDict(on_test)
        result.startTestRun()
        try:
            case.run(result)
        finally:
            result.stopTestRun()
    return results


class Call(object):
    __slots__ = ('cls', 'meth', 'status', 'method', 'url', 'req_body', 'resp_headers', 'resp_body')

    def __init__(self, cls, meth, status, method, url):
        self.cls, self.meth, self.status, self.method, self.url = cls, meth, int(status), method, url
        self.req_body = self.resp_headers = self.resp_body = ''


def read_log(path):
    """(class, method) -> [Call] in order, from tempest.log."""
    calls = collections.defaultdict(list)
    last_by_pid = {}
    if not os.path.exists(path):
        return calls
    cur_pid, cur_debug = None, None
    with open(path, errors='replace') as f:
        for line in f:
            m = LOG_LINE.match(line.rstrip('\n'))
            if m:
                pid, _level, logger, msg = m.groups()
                cur_pid, cur_debug = pid, None
                if logger != 'tempest.lib.common.rest_client':
                    continue
                r = REQUEST.match(msg)
                if r:
                    c = Call(*r.groups()[:5])
                    calls[(c.cls, c.meth)].append(c)
                    last_by_pid[pid] = c
                elif msg.startswith('Request - Headers:'):
                    cur_debug = last_by_pid.get(pid)
                continue
            # Continuation lines of the debug record that follows a request line.
            if cur_debug is None:
                continue
            s = line.strip()
            if s.startswith('Response - Headers:'):
                cur_debug.resp_headers = s[len('Response - Headers:'):].strip()
            elif s.startswith('Body:'):
                body = re.sub(r' _log_request_full \S+$', '', s[len('Body:'):].strip())
                if cur_debug.resp_headers:
                    cur_debug.resp_body = body
                else:
                    cur_debug.req_body = body
    return calls


def exception_of(traceback):
    """The exception at the end of a traceback, without the frames."""
    lines = traceback.rstrip().splitlines()
    last_frame = 0
    for i, line in enumerate(lines):
        if line.lstrip().startswith('File "'):
            last_frame = i
    tail = lines[last_frame + 1:]
    # Skip the code line(s) and carets shown under the last frame.
    while tail and (tail[0].startswith('    ') or not tail[0].strip() or set(tail[0].strip()) <= set('^~')):
        tail = tail[1:]
    return '\n'.join(l for l in tail if l.strip()) or '\n'.join(lines[-5:])


AREAS = [
    (r'/identity/', 'identity'),
    (r'/image/', 'images'),
    (r'/v2(\.1)?/images', 'images (compute image proxy)'),
    (r'/flavors', 'flavors'),
    (r'/os-keypairs', 'keypairs'),
    (r'/os-quota-|/limits', 'quotas/limits'),
    (r'/servers/[^/]+/action', 'actions'),
    (r'/servers/[^/]+/migrations|/os-migrations', 'admin APIs'),
    (r'/servers/[^/]+/(metadata|tags|ips|os-server-password|os-interface|os-virtual-interfaces|'
     r'diagnostics|os-volume_attachments|os-instance-actions)', 'sub-resources'),
    (r'/os-server-groups|/os-simple-tenant-usage', 'sub-resources'),
    (r'/os-hypervisors|/os-services|/os-aggregates|/os-hosts|/os-instance_usage_audit_log|'
     r'/os-server-external-events|/os-availability-zone', 'admin APIs'),
    (r'/servers|/os-volumes_boot', 'servers create/views'),
    (r'/os-security-group|/os-networks|/os-tenant-networks|/os-fixed-ips|/os-floating-ip', 'networking proxies'),
    (r'/os-volumes|/os-snapshots', 'volumes'),
]


def test_line(traceback):
    """The deepest line of a test module in a traceback: says what the test expected."""
    lines = traceback.splitlines()
    found = ''
    for i, line in enumerate(lines):
        if re.search(r'File "[^"]*/tempest/api/(.*/)?test_[^/]*\.py"', line) and i + 1 < len(lines):
            found = '%s: %s' % (re.sub(r'.*/tempest/api/', 'tempest/api/', line.strip()),
                                lines[i + 1].strip())
    return found


def describe(traceback):
    exc = exception_of(traceback)
    where = test_line(traceback)
    return exc + '\nat ' + where if where else exc


def area_of(call, exc):
    if 'failed to reach' in exc or 'TimeoutException' in exc or 'BuildErrorException' in exc:
        return 'lifecycle (state never reached)'
    if call is None:
        return 'unknown'
    for pattern, area in AREAS:
        if re.search(pattern, call.url):
            return area
    return 'versions/other'


def clip(s, n):
    return s if len(s) <= n else s[:n] + '...(%d more)' % (len(s) - n)


def failing_call(calls, exc):
    """The call a failure is most likely about: the last one answered >= 400 when the
    exception is an HTTP error, else the last call of the test."""
    if not calls:
        return None
    http_error = re.search(r'tempest\.lib\.exceptions\.(\w+)', exc) and 'Details:' in exc
    if http_error or 'Unexpected' in exc:
        for c in reversed(calls):
            if c.status >= 400:
                return c
    # Token requests are bookkeeping, not what a test is about.
    for c in reversed(calls):
        if '/auth/tokens' not in c.url:
            return c
    return calls[-1]


def selection(reference, regex, exclude):
    """Test ids of the reference list the regex selects, and those excluded."""
    excl = []
    for line in open(exclude):
        r = line.split('#', 1)[0].strip()
        if r:
            excl.append(re.compile(r))
    sel, excluded = [], []
    inc = re.compile(regex)
    for line in open(os.path.join(reference, 'compute-tests-expected.tsv')):
        if line.startswith('#'):
            continue
        tid, expected = line.rstrip('\n').split('\t')[:2]
        if not inc.search(tid):
            continue
        (excluded if any(e.search(tid) for e in excl) else sel).append((tid, expected))
    return sel, excluded


def classes_of(test_ids):
    """The classes of the selected tests, by module, shortest form: mod.ClassA,ClassB."""
    by_module = collections.OrderedDict()
    for tid in test_ids:
        mod, cls = base_id(tid).rsplit('.', 2)[:2]
        by_module.setdefault(mod.replace('tempest.api.compute.', ''), []).append(cls)
    n = sum(len(set(c)) for c in by_module.values())
    if n > 25:  # a whole-suite run: just the counts
        return '%d in %d modules' % (n, len(by_module))
    return '; '.join('%s.%s' % (m, ','.join(sorted(set(c)))) for m, c in by_module.items())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--results', required=True)
    ap.add_argument('--reference', required=True)
    ap.add_argument('--exclude', required=True)
    ap.add_argument('--regex', required=True)
    ap.add_argument('--wall', type=int, default=0)
    ap.add_argument('--concurrency', default='?')
    ap.add_argument('--driver', default='fake')
    args = ap.parse_args()

    results = read_subunit(os.path.join(args.results, 'results.subunit'))
    calls = read_log(os.path.join(args.results, 'tempest.log'))
    sel, excluded = selection(args.reference, args.regex, args.exclude)

    count = collections.Counter()
    problems = []  # dicts: kind, id, exc, call, blocked (tests a failed class fixture kept from running)
    notes = []  # skips the reference allows for some clouds
    fixtures = {}  # class path -> problem of its failed setUpClass
    for tid, (status, details, _) in sorted(results.items()):
        m = SETUP_ID.match(tid)
        if m and status not in ('success', 'skip'):
            tb = details.get('traceback', '')
            exc = describe(tb)
            cls = m.group(2)
            cl = calls.get((cls, m.group(1)), []) or calls.get((cls, 'resource_setup'), [])
            p = {'kind': 'class %s failed' % m.group(1), 'id': tid, 'exc': exc,
                 'call': failing_call(cl, exc), 'blocked': []}
            problems.append(p)
            fixtures[tid.split('(', 1)[1].rstrip(')')] = p
            count['fixture errors'] += 1

    by_base = {base_id(t): t for t in results}
    for tid, exp in sel:
        got = results.get(tid) or results.get(by_base.get(base_id(tid), ''))
        if got is None:
            cls_path = base_id(tid).rsplit('.', 1)[0]
            setup = results.get('setUpClass (%s)' % cls_path)
            if setup and setup[0] == 'skip':
                got = setup
            elif cls_path in fixtures:
                count['failed in class setup'] += 1
                fixtures[cls_path]['blocked'].append(tid)
                continue
            else:
                count['not run'] += 1
                problems.append({'kind': 'not run (run stopped?)', 'id': tid, 'exc': '', 'call': None})
                continue
        status, details, _ = got
        if status == 'success':
            count['passed'] += 1
        elif status == 'skip':
            count['skipped'] += 1
            reason = details.get('reason', '').strip()
            if exp == 'run':
                problems.append({'kind': 'skipped, expected to run', 'id': tid,
                                 'exc': reason, 'call': None})
            elif exp == 'run-or-skip':
                notes.append('%s skipped (allowed, but this cloud should run it): %s' % (tid, reason))
        else:
            count['failed'] += 1
            exc = describe(details.get('traceback', ''))
            cls, meth = base_id(tid).rsplit('.', 2)[1:]
            # Calls made in setUp are logged under setUp, not the test's name.
            # A test that made no call checks what the class fixture fetched.
            mine = (calls.get((cls, meth)) or calls.get((cls, 'setUp')) or
                    calls.get((cls, 'setUpClass'), []))
            problems.append({'kind': 'failed', 'id': tid, 'exc': exc,
                             'call': failing_call(mine, exc)})

    # A test the reference list does not know (another Tempest version) still counts.
    known = {base_id(t) for t, _ in sel} | {base_id(t) for t, _ in excluded}
    for tid, (status, details, _) in sorted(results.items()):
        if SETUP_ID.match(tid) or base_id(tid) in known:
            continue
        count['outside the reference list'] += 1
        if status not in ('success', 'skip'):
            count['failed'] += 1
            exc = describe(details.get('traceback', ''))
            cls, meth = base_id(tid).rsplit('.', 2)[1:]
            problems.append({'kind': 'failed (not in the reference list)', 'id': tid, 'exc': exc,
                             'call': failing_call(calls.get((cls, meth), []), exc)})

    write_failures(os.path.join(args.results, 'failures.txt'), problems)
    write_junit(os.path.join(args.results, 'junit.xml'), results)

    wall = '%dm%02ds' % divmod(args.wall, 60)
    lines = [
        'Tempest compute API tests against minicloud serve --driver %s' % args.driver,
        'selected %d (of %d matching the regex; %d excluded by %s), concurrency %s'
        % (len(sel), len(sel) + len(excluded), len(excluded), os.path.basename(args.exclude),
           args.concurrency),
        'classes: %s' % classes_of(t for t, _ in sel),
        'passed %d of %d expected to run; failed %d (+%d in %d failed class fixtures), '
        'skipped %d, not run %d'
        % (count['passed'], sum(1 for _, e in sel if e != 'skip'), count['failed'],
           count['failed in class setup'], count['fixture errors'], count['skipped'],
           count['not run']),
        'skipped although expected to run: %d; ran outside the reference list: %d'
        % (sum(1 for p in problems if p['kind'].startswith('skipped')),
           count['outside the reference list']),
        'wall time %s' % wall,
    ]
    with open(os.path.join(args.results, 'summary.txt'), 'w') as f:
        f.write('\n'.join(lines) + '\n')

    if problems:
        print('\n== Tempest problems (%d); full request/response in failures.txt' % len(problems))
        for i, p in enumerate(problems):
            if i == 80:
                print('... and %d more in failures.txt' % (len(problems) - i))
                break
            print('- %s: %s' % (p['kind'], p['id']))
            exc, call = p['exc'], p['call']
            if p.get('blocked'):
                print('    (%d tests of this class did not run)' % len(p['blocked']))
            if exc:
                print('    ' + clip(exc.splitlines()[0], 300))
            if call:
                print('    %s %s -> %d %s' % (call.method, call.url, call.status, clip(call.resp_body, 300)))
    for n in notes:
        print('note: ' + n)
    print('\n== Tempest totals')
    for line in lines:
        print('tempest: ' + line)
    return 1 if problems else 0


def write_failures(path, problems):
    with open(path, 'w') as f:
        groups = collections.defaultdict(list)
        for p in problems:
            skip = p['kind'].startswith('skipped')
            groups['skips' if skip else area_of(p['call'], p['exc'])].append(p)
        for area in sorted(groups):
            f.write('#### %s (%d)\n\n' % (area, len(groups[area])))
            for p in groups[area]:
                exc, call = p['exc'], p['call']
                f.write('## %s: %s\n' % (p['kind'], p['id']))
                for b in p.get('blocked', []):
                    f.write('   blocked: %s\n' % b)
                if exc:
                    f.write('exception:\n    %s\n' % clip(exc, 3000).replace('\n', '\n    '))
                if call:
                    f.write('call: %s %s (%s:%s)\n' % (call.method, call.url, call.cls, call.meth))
                    f.write('request body: %s\n' % clip(call.req_body, 2000))
                    f.write('answer: %d %s\n' % (call.status, clip(call.resp_body, 4000)))
                f.write('\n')


def write_junit(path, results):
    suite = ET.Element('testsuite', name='tempest')
    n = collections.Counter()
    for tid, (status, details, dur) in sorted(results.items()):
        cls, name = (base_id(tid).rsplit('.', 1) + [''])[:2]
        case = ET.SubElement(suite, 'testcase', classname=cls, name=name or tid, time='%.3f' % dur)
        n['tests'] += 1
        if status == 'skip':
            n['skipped'] += 1
            ET.SubElement(case, 'skipped', message=details.get('reason', '')[:500])
        elif status != 'success':
            n['failures'] += 1
            tb = details.get('traceback', '')
            el = ET.SubElement(case, 'failure', message=exception_of(tb)[:500])
            el.text = tb
    for k in ('tests', 'failures', 'skipped'):
        suite.set(k, str(n[k]))
    ET.ElementTree(suite).write(path, encoding='utf-8', xml_declaration=True)


if __name__ == '__main__':
    sys.exit(main())
