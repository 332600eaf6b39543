"""Validate compute API answers against Tempest's response schemas.

Reads a JSON list of {"version", "op", "status", "body"} on stdin, where
op is a servers schema name (get_server, list_servers_detail, ...), picks
the schema module Tempest's servers client uses at that microversion and
prints one line per answer Tempest would reject.
"""
import json
import sys

from tempest.lib.common import rest_client
from tempest.lib.services.compute import servers_client


def version_tuple(v):
    if v is None:
        return None
    major, minor = v.split('.')
    return int(major), int(minor)


def schema_for(version):
    v = version_tuple(version)
    for info in servers_client.ServersClient.schema_versions_info:
        lo, hi = version_tuple(info['min']), version_tuple(info['max'])
        if (lo is None or v >= lo) and (hi is None or v <= hi):
            return info['schema']
    raise SystemExit('no schema for %s' % version)


class Resp(dict):
    def __init__(self, status):
        super().__init__()
        self.status = status


failures = 0
for item in json.load(sys.stdin):
    module = schema_for(item['version'])
    if item['op'].startswith('create_server'):
        # The servers client checks creates against 2.1's schema always.
        module = servers_client.schema
    schema = getattr(module, item['op'])
    try:
        rest_client.RestClient.validate_response(schema, Resp(item['status']), item['body'])
    except Exception as ex:  # noqa: BLE001 - report every rejection
        failures += 1
        print('%s %s: %s' % (item['version'], item['op'], ex))
sys.exit(1 if failures else 0)
