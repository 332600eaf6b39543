#!/usr/bin/python3
"""Create, through the public APIs of a fresh minicloud, what Tempest's config needs.

    provision.py [--flavor NAME:RAM_MB:VCPUS:DISK_GB]... IMAGE IMAGE_ALT

Reads MINICLOUD_URL, ADMIN_USERNAME, ADMIN_PASSWORD, ADMIN_PROJECT and MEMBER_PASSWORD
from the environment and the two image files named on the command line; creates the
pre-provisioned accounts of accounts.yaml.template (4 admins, 8 members, each in its own
project), two public qcow2 images and two flavors (the second larger; --flavor twice
replaces the defaults), and prints shell assignments for IMAGE_REF, IMAGE_REF_ALT,
FLAVOR_REF, FLAVOR_REF_ALT and HYPERVISOR_TYPE (what os-hypervisors reports, which
tempest.conf's hypervisor_type must name) on stdout.

Standard library only: it runs under the system python3 that python3-tempest pulls in.
Only the URL it is given (a loopback listener) is ever contacted.
"""
import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request

URL = os.environ['MINICLOUD_URL'].rstrip('/')
ADMINS = ['tempest-admin%d' % i for i in range(1, 5)]
MEMBERS = [('tempest-user%d' % i, 'tempest-project%d' % i) for i in range(1, 9)]
# Flavor disks hold either image; ALT is larger in every dimension (resize tests).
FLAVORS = [
    {'name': 'tempest-small', 'ram': 128, 'vcpus': 1, 'disk': 1},
    {'name': 'tempest-large', 'ram': 256, 'vcpus': 2, 'disk': 2},
]


# Never through a proxy from the environment: the cloud is on loopback.
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class APIError(Exception):
    pass


def call(method, path, body=None, token=None, headers=None, data=None, ok=(200, 201, 202, 204)):
    """One HTTP call; returns (status, headers, parsed JSON or None)."""
    hdrs = {'Accept': 'application/json'}
    if body is not None:
        data = json.dumps(body).encode()
        hdrs['Content-Type'] = 'application/json'
    if token:
        hdrs['X-Auth-Token'] = token
    hdrs.update(headers or {})
    req = urllib.request.Request(URL + path, data=data, method=method, headers=hdrs)
    try:
        with OPENER.open(req, timeout=60) as resp:
            status, rhdrs, raw = resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as e:
        status, rhdrs, raw = e.code, e.headers, e.read()
    if status not in ok:
        raise APIError('%s %s: %d %s' % (method, path, status, raw[:500].decode(errors='replace')))
    ctype = rhdrs.get('Content-Type', '')
    return status, rhdrs, (json.loads(raw) if raw.strip() and 'json' in ctype else None)


def wait_ready(deadline=30.0):
    end = time.monotonic() + deadline
    while True:
        try:
            call('GET', '/healthz', headers={'Accept': 'text/plain'})
            return
        except (OSError, APIError) as e:
            if time.monotonic() > end:
                raise APIError('minicloud did not answer %s/healthz: %s' % (URL, e))
            time.sleep(0.1)


def token(user, password, project):
    body = {'auth': {
        'identity': {'methods': ['password'], 'password': {'user': {
            'name': user, 'password': password, 'domain': {'name': 'Default'}}}},
        'scope': {'project': {'name': project, 'domain': {'name': 'Default'}}}}}
    _, hdrs, _ = call('POST', '/identity/v3/auth/tokens', body, ok=(201,))
    return hdrs['X-Subject-Token']


def role_ids(tok):
    _, _, body = call('GET', '/identity/v3/roles', token=tok)
    roles = {r['name']: r['id'] for r in body['roles']}
    for name in ('admin', 'member'):
        if name not in roles:
            _, _, body = call('POST', '/identity/v3/roles', {'role': {'name': name}}, token=tok)
            roles[name] = body['role']['id']
    return roles


def create_account(tok, roles, user, password, project, role):
    _, _, body = call('POST', '/identity/v3/projects', {'project': {
        'name': project, 'domain_id': 'default', 'description': 'tempest'}}, token=tok)
    pid = body['project']['id']
    _, _, body = call('POST', '/identity/v3/users', {'user': {
        'name': user, 'password': password, 'domain_id': 'default',
        'default_project_id': pid}}, token=tok)
    uid = body['user']['id']
    call('PUT', '/identity/v3/projects/%s/users/%s/roles/%s' % (pid, uid, roles[role]), token=tok)
    # The account must work before Tempest takes it.
    token(user, password, project)


def create_image(tok, name, path):
    _, _, body = call('POST', '/image/v2/images', {
        'name': name, 'disk_format': 'qcow2', 'container_format': 'bare',
        'visibility': 'public'}, token=tok)
    iid = body['id']
    with open(path, 'rb') as f:
        call('PUT', '/image/v2/images/%s/file' % iid, token=tok, data=f.read(),
             headers={'Content-Type': 'application/octet-stream'})
    _, _, body = call('GET', '/image/v2/images/%s' % iid, token=tok)
    if body['status'] != 'active':
        raise APIError('image %s is %s after upload, not active' % (iid, body['status']))
    return iid


def create_flavor(tok, spec):
    _, _, body = call('POST', '/v2.1/flavors', {'flavor': spec}, token=tok)
    return body['flavor']['id']


def hypervisor_type(tok):
    _, _, body = call('GET', '/v2.1/os-hypervisors/detail', token=tok)
    types = {h['hypervisor_type'] for h in body['hypervisors']}
    if len(types) != 1:
        raise APIError('os-hypervisors/detail: want one hypervisor type, got %s' % sorted(types))
    return types.pop()


def flavor_spec(arg):
    try:
        name, ram, vcpus, disk = arg.split(':')
        return {'name': name, 'ram': int(ram), 'vcpus': int(vcpus), 'disk': int(disk)}
    except ValueError:
        raise argparse.ArgumentTypeError('want NAME:RAM_MB:VCPUS:DISK_GB, got %r' % arg)


def main(image, image_alt, flavors):
    wait_ready()
    admin_password = os.environ['ADMIN_PASSWORD']
    member_password = os.environ['MEMBER_PASSWORD']
    tok = token(os.environ['ADMIN_USERNAME'], admin_password, os.environ['ADMIN_PROJECT'])
    roles = role_ids(tok)
    for name in ADMINS:
        create_account(tok, roles, name, admin_password, name, 'admin')
    for user, project in MEMBERS:
        create_account(tok, roles, user, member_password, project, 'member')
    refs = {
        'IMAGE_REF': create_image(tok, 'tempest-image', image),
        'IMAGE_REF_ALT': create_image(tok, 'tempest-image-alt', image_alt),
        'FLAVOR_REF': create_flavor(tok, flavors[0]),
        'FLAVOR_REF_ALT': create_flavor(tok, flavors[1]),
        'HYPERVISOR_TYPE': hypervisor_type(tok),
    }
    for k, v in refs.items():
        print("%s='%s'" % (k, v))


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description='Provision a fresh minicloud for Tempest.')
    ap.add_argument('--flavor', type=flavor_spec, action='append',
                    help='NAME:RAM_MB:VCPUS:DISK_GB, twice: the flavor and the larger alt flavor')
    ap.add_argument('image')
    ap.add_argument('image_alt')
    args = ap.parse_args()
    if args.flavor is not None and len(args.flavor) != 2:
        ap.error('--flavor must be given twice (flavor_ref, then the larger flavor_ref_alt)')
    try:
        main(args.image, args.image_alt, args.flavor or FLAVORS)
    except APIError as e:
        sys.exit('provision: %s' % e)
