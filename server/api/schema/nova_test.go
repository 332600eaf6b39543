package schema

import (
	"strings"
	"testing"
)

// Each case is a request body and the 400 message a real Nova (jsonschema
// 4.17 message texts) gives for it against the same schema; "" means valid.
var novaCases = []struct {
	schema *Schema
	body   string
	want   string
}{
	{serverCreate, `{"server": {"name": "bad", "imageRef": "7406397a-27ac-4e4d-9cb6-54648d9c389f", "networks": "none"}}`, "Invalid input for field/attribute server. Value: {'name': 'bad', 'imageRef': '7406397a-27ac-4e4d-9cb6-54648d9c389f', 'networks': 'none'}. 'flavorRef' is a required property"},
	{serverCreate, `{"server": {"name": "a", "flavorRef": "", "networks": "none"}}`, "Invalid input for field/attribute flavorRef. Value: . '' is too short"},
	{serverCreate, ``, "None is not of type 'object'"},
	{serverCreate, `[]`, "[] is not of type 'object'"},
	{serverCreate, `{}`, "'server' is a required property"},
	{serverCreate, `{"server": {"name": "a", "flavorRef": "1", "networks": "none"}, "foo": 1}`, "Additional properties are not allowed ('foo' was unexpected)"},
	{serverCreate, `{"server": {"name": "a", "flavorRef": "1", "networks": "none", "zzz": 1, "aaa": 2}}`, "Invalid input for field/attribute server. Value: {'name': 'a', 'flavorRef': '1', 'networks': 'none', 'zzz': 1, 'aaa': 2}. Additional properties are not allowed ('aaa', 'zzz' were unexpected)"},
	{serverCreate, `{"server": {"name": "a", "flavorRef": 1.5, "networks": "none"}}`, "Invalid input for field/attribute flavorRef. Value: 1.5. 1.5 is not of type 'string', 'integer'"},
	{serverCreate, `{"server": {"name": "a", "flavorRef": true, "networks": "none"}}`, "Invalid input for field/attribute flavorRef. Value: True. True is not of type 'string', 'integer'"},
	{serverCreate, `{"server": {"name": " a", "flavorRef": "1", "networks": "none"}}`, "An invalid 'name' value was provided. The name must be: printable characters. Can not start or end with whitespace."},
	{serverCreate, `{"server": {"name": "a ", "flavorRef": "1", "networks": "none"}}`, "An invalid 'name' value was provided. The name must be: printable characters. Can not start or end with whitespace."},
	{serverCreate, `{"server": {"name": "", "flavorRef": "1", "networks": "none"}}`, "Invalid input for field/attribute name. Value: . '' is too short"},
	{serverCreate, `{"server": {"name": "a\n", "flavorRef": "1", "networks": "none"}}`, ""},
	{serverCreate, `{"server": {"name": "\n", "flavorRef": "1", "networks": "none"}}`, "An invalid 'name' value was provided. The name must be: printable characters. Can not start or end with whitespace."},
	{serverCreate, `{"server": {"name": "a\u0001b", "flavorRef": "1", "networks": "none"}}`, "An invalid 'name' value was provided. The name must be: printable characters. Can not start or end with whitespace."},
	{serverCreate, `{"server": {"name": "caf\u00e9 \ud83d\ude00", "flavorRef": "1", "networks": "none"}}`, "An invalid 'name' value was provided. The name must be: printable characters. Can not start or end with whitespace."},
	{serverCreate, `{"server": {"name": 5, "flavorRef": "1", "networks": "none"}}`, "Invalid input for field/attribute name. Value: 5. 5 is not of type 'string'"},
	{serverCreate, `{"server": {"name": "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "flavorRef": "1", "networks": "none"}}`, ""},
	{serverCreate, `{"server": {"name": "a", "imageRef": "abc", "flavorRef": "1", "networks": "none"}}`, "Invalid input for field/attribute imageRef. Value: abc. 'abc' is not valid under any of the given schemas"},
	{serverCreate, `{"server": {"name": "a", "imageRef": "", "flavorRef": "1", "networks": "none"}}`, ""},
	{serverCreate, `{"server": {"name": "a", "imageRef": "{urn:uuid:7406397A27AC4E4D9CB654648D9C389F}", "flavorRef": "1", "networks": "none"}}`, ""},
	{serverCreate, `{"server": {"name": "a", "imageRef": null, "flavorRef": "1", "networks": "none"}}`, "Invalid input for field/attribute imageRef. Value: None. None is not valid under any of the given schemas"},
	{serverCreate, `{"server": {"name": "a", "flavorRef": "1", "networks": "some"}}`, "Invalid input for field/attribute networks. Value: some. 'some' is not valid under any of the given schemas"},
	{serverCreate, `{"server": {"name": "a", "flavorRef": "1", "networks": [{"uuid": "x"}]}}`, "Invalid input for field/attribute networks. Value: [{'uuid': 'x'}]. [{'uuid': 'x'}] is not valid under any of the given schemas"},
	{serverCreate, `{"server": {"name": "a", "flavorRef": "1", "networks": [{"fixed_ip": "10.0.0.01"}]}}`, "Invalid input for field/attribute networks. Value: [{'fixed_ip': '10.0.0.01'}]. [{'fixed_ip': '10.0.0.01'}] is not valid under any of the given schemas"},
	{serverCreate, `{"server": {"name": "a", "flavorRef": "1", "networks": [{"fixed_ip": "fe80::1%eth0"}]}}`, "Invalid input for field/attribute networks. Value: [{'fixed_ip': 'fe80::1%eth0'}]. [{'fixed_ip': 'fe80::1%eth0'}] is not valid under any of the given schemas"},
	{serverCreate, `{"server": {"name": "a", "flavorRef": "1", "networks": [{"fixed_ip": "::ffff:10.0.0.1", "port": null}]}}`, ""},
	{serverCreate, `{"server": {"name": "a", "flavorRef": "1"}}`, "Invalid input for field/attribute server. Value: {'name': 'a', 'flavorRef': '1'}. 'networks' is a required property"},
	{serverCreate, `{"server": {"name": "a", "flavorRef": "1", "networks": "auto", "metadata": {"kkk!": "v"}}}`, "Invalid input for field/attribute metadata. Value: {'kkk!': 'v'}. 'kkk!' does not match any of the regexes: '^[a-zA-Z0-9-_:. ]{1,255}$'"},
	{serverCreate, `{"server": {"name": "a", "flavorRef": "1", "networks": "auto", "metadata": {"b!": "v", "a!": "w"}}}`, "Invalid input for field/attribute metadata. Value: {'b!': 'v', 'a!': 'w'}. 'a!', 'b!' do not match any of the regexes: '^[a-zA-Z0-9-_:. ]{1,255}$'"},
	{serverCreate, `{"server": {"name": "a", "flavorRef": "1", "networks": "auto", "metadata": {"k": 1}}}`, "Invalid input for field/attribute k. Value: 1. 1 is not of type 'string'"},
	{serverCreate, `{"server": {"name": "a", "flavorRef": "1", "networks": "auto", "metadata": {"k": "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}}}`, ""},
	{serverCreate, `{"server": {"name": "a", "flavorRef": "1", "networks": "auto", "metadata": []}}`, "Invalid input for field/attribute metadata. Value: []. [] is not of type 'object'"},
	{serverCreate, `{"server": {"name": "a", "flavorRef": "1", "networks": "auto", "OS-DCF:diskConfig": "auto"}}`, "Invalid input for field/attribute OS-DCF:diskConfig. Value: auto. 'auto' is not one of ['AUTO', 'MANUAL']"},
	{serverCreate, `{"server": {"name": "a", "flavorRef": "1", "networks": "auto", "accessIPv4": "1.2.3"}}`, "Invalid input for field/attribute accessIPv4. Value: 1.2.3. '1.2.3' is not a 'ipv4'"},
	{serverCreate, `{"server": {"name": "a", "flavorRef": "1", "networks": "auto", "accessIPv6": "1:2:3"}}`, "Invalid input for field/attribute accessIPv6. Value: 1:2:3. '1:2:3' is not a 'ipv6'"},
	{serverCreate, `{"server": {"name": "a", "flavorRef": "1", "networks": "auto", "config_drive": "maybe"}}`, "Invalid input for field/attribute config_drive. Value: maybe. 'maybe' is not one of [True, 'True', 'TRUE', 'true', '1', 'ON', 'On', 'on', 'YES', 'Yes', 'yes', False, 'False', 'FALSE', 'false', '0', 'OFF', 'Off', 'off', 'NO', 'No', 'no']"},
	{serverCreate, `{"server": {"name": "a", "flavorRef": "1", "networks": "auto", "config_drive": 1}}`, "Invalid input for field/attribute config_drive. Value: 1. 1 is not of type 'boolean', 'string'"},
	{serverCreate, `{"server": {"name": "a", "flavorRef": "1", "networks": "auto", "config_drive": 1.0}}`, "Invalid input for field/attribute config_drive. Value: 1.0. 1.0 is not of type 'boolean', 'string'"},
	{serverCreate, `{"server": {"name": "a", "flavorRef": "1", "networks": "auto", "config_drive": 0}}`, "Invalid input for field/attribute config_drive. Value: 0. 0 is not of type 'boolean', 'string'"},
	{serverCreate, `{"server": {"name": "a", "flavorRef": "1", "networks": "auto", "min_count": "0"}}`, "Invalid input for field/attribute min_count. Value: 0. 0 is less than the minimum of 1"},
	{serverCreate, `{"server": {"name": "a", "flavorRef": "1", "networks": "auto", "min_count": 0}}`, "Invalid input for field/attribute min_count. Value: 0. 0 is less than the minimum of 1"},
	{serverCreate, `{"server": {"name": "a", "flavorRef": "1", "networks": "auto", "min_count": "x1"}}`, "Invalid input for field/attribute min_count. Value: x1. 'x1' does not match '^[0-9]*$'"},
	{serverCreate, `{"server": {"name": "a", "flavorRef": "1", "networks": "auto", "min_count": ""}}`, "Invalid input for field/attribute min_count. Value: . '' is too short"},
	{serverCreate, `{"server": {"name": "a", "flavorRef": "1", "networks": "auto", "min_count": 0.0}}`, "Invalid input for field/attribute min_count. Value: 0.0. 0 is less than the minimum of 1"},
	{serverCreate, `{"server": {"name": "a", "flavorRef": "1", "networks": "auto", "min_count": 0.5}}`, "Invalid input for field/attribute min_count. Value: 0.5. 0.5 is not of type 'integer', 'string'"},
	{serverCreate, `{"server": {"name": "a", "flavorRef": "1", "networks": "auto", "min_count": -3}}`, "Invalid input for field/attribute min_count. Value: -3. -3 is less than the minimum of 1"},
	{serverCreate, `{"server": {"name": "a", "flavorRef": "1", "networks": "auto", "min_count": "5\n"}}`, ""},
	{serverCreate, `{"server": {"name": "a", "flavorRef": "1", "networks": "auto", "user_data": "u1234"}}`, "Invalid input for field/attribute user_data. Value: u1234. 'u1234' is not a 'base64'"},
	{serverCreate, `{"server": {"name": "a", "flavorRef": "1", "networks": "auto", "user_data": "aGVsbG8=!!"}}`, ""},
	{serverCreate, `{"server": {"name": "a", "flavorRef": "1", "networks": "auto", "user_data": "aGVsbG8"}}`, "Invalid input for field/attribute user_data. Value: aGVsbG8. 'aGVsbG8' is not a 'base64'"},
	{serverCreate, `{"server": {"name": "a", "flavorRef": "1", "networks": "auto", "user_data": "aGVsbA==garbage"}}`, ""},
	{serverCreate, `{"server": {"name": "a", "flavorRef": "1", "networks": "auto", "security_groups": [{"name": "default"}, {"nme": "x"}]}}`, "Invalid input for field/attribute 1. Value: {'nme': 'x'}. Additional properties are not allowed ('nme' was unexpected)"},
	{serverCreate, `{"server": {"name": "a", "flavorRef": "1", "networks": "auto", "security_groups": [{"name": " x"}]}}`, "An invalid 'name' value was provided. The name must be: printable characters. Can not start or end with whitespace."},
	{serverCreate, `{"server": {"name": "a", "flavorRef": "1", "networks": "auto", "description": null}}`, ""},
	{serverCreate, `{"server": {"name": "a", "flavorRef": "1", "networks": "auto", "description": 5}}`, "Invalid input for field/attribute description. Value: 5. 5 is not of type 'string', 'null'"},
	{serverCreate, `{"server": {"name": "a", "flavorRef": "1", "networks": "auto", "tags": ["a,b"]}}`, "Invalid input for field/attribute 0. Value: a,b. 'a,b' does not match '^[^,/]*$'"},
	{serverCreate, `{"server": {"name": "a", "flavorRef": "1", "networks": "auto", "tags": ["a", ""]}}`, "Invalid input for field/attribute 1. Value: . '' is too short"},
	{serverCreate, `{"server": {"name": "a", "flavorRef": "1", "networks": "auto", "tags": "a"}}`, "Invalid input for field/attribute tags. Value: a. 'a' is not of type 'array'"},
	{serverCreate, `{"server": {"name": "a", "flavorRef": "1", "networks": "auto", "trusted_image_certificates": []}}`, "Invalid input for field/attribute trusted_image_certificates. Value: []. [] is too short"},
	{serverCreate, `{"server": {"name": "a", "flavorRef": "1", "networks": "auto", "trusted_image_certificates": ["a", "b", "a"]}}`, "Invalid input for field/attribute trusted_image_certificates. Value: ['a', 'b', 'a']. ['a', 'b', 'a'] has non-unique elements"},
	{serverCreate, `{"server": {"name": "a", "flavorRef": "1", "networks": "auto", "trusted_image_certificates": [""]}}`, "Invalid input for field/attribute 0. Value: . '' is too short"},
	{serverCreate, `{"server": {"name": "a", "flavorRef": "1", "networks": "auto", "hostname": "a"}}`, "Invalid input for field/attribute hostname. Value: a. 'a' does not match '^[a-zA-Z0-9]+[a-zA-Z0-9-]*[a-zA-Z0-9]+$'"},
	{serverCreate, `{"server": {"name": "a", "flavorRef": "1", "networks": "auto", "hostname": "-ab"}}`, "Invalid input for field/attribute hostname. Value: -ab. '-ab' does not match '^[a-zA-Z0-9]+[a-zA-Z0-9-]*[a-zA-Z0-9]+$'"},
	{serverCreate, `{"server": {"name": "a", "flavorRef": "1", "networks": "auto", "host": "a b"}}`, "Invalid input for field/attribute host. Value: a b. 'a b' does not match '^[a-zA-Z0-9-._]*$'"},
	{serverCreate, `{"server": {"name": "it's", "flavorRef": "1", "networks": "auto", "host": "it's"}}`, "Invalid input for field/attribute host. Value: it's. \"it's\" does not match '^[a-zA-Z0-9-._]*$'"},
	{serverCreate, `{"server": {"name": "a", "flavorRef": "1", "networks": "auto", "host": "say \"it's\""}}`, "Invalid input for field/attribute host. Value: say \"it's\". 'say \"it\\'s\"' does not match '^[a-zA-Z0-9-._]*$'"},
	{serverCreate, `{"server": {"name": "a", "flavorRef": "1", "networks": "auto", "adminPass": ["x", 1.5e300, 1e-7, 100000000000000000000000, -0, -0.0, 1E16, 123.0, null, true, {"é": "\u00a0\u2028\t"}]}}`, "Invalid input for field/attribute adminPass. Value: ['x', 1.5e+300, 1e-07, 100000000000000000000000, 0, -0.0, 1e+16, 123.0, None, True, {'é': '\\xa0\\u2028\\t'}]. ['x', 1.5e+300, 1e-07, 100000000000000000000000, 0, -0.0, 1e+16, 123.0, None, True, {'é': '\\xa0\\u2028\\t'}] is not of type 'string'"},
	{flavorCreate, `{"flavor": {"name": "f", "ram": "0", "vcpus": 1, "disk": 0}}`, "Invalid input for field/attribute ram. Value: 0. 0 is less than the minimum of 1"},
	{flavorCreate, `{"flavor": {"name": "f", "ram": 0, "vcpus": 1, "disk": 0}}`, "Invalid input for field/attribute ram. Value: 0. 0 is less than the minimum of 1"},
	{flavorCreate, `{"flavor": {"name": "f", "ram": 1, "vcpus": 1, "disk": -1}}`, "Invalid input for field/attribute disk. Value: -1. -1 is less than the minimum of 0"},
	{flavorCreate, `{"flavor": {"name": "f", "ram": "99999999999999999999", "vcpus": 1, "disk": 0}}`, "Invalid input for field/attribute ram. Value: 99999999999999999999. 99999999999999999999 is greater than the maximum of 2147483647"},
	{flavorCreate, `{"flavor": {"name": "f", "ram": 2147483648, "vcpus": 1, "disk": 0}}`, "Invalid input for field/attribute ram. Value: 2147483648. 2147483648 is greater than the maximum of 2147483647"},
	{flavorCreate, `{"flavor": {"name": "f", "ram": 1, "vcpus": "1.5", "disk": 0}}`, "Invalid input for field/attribute vcpus. Value: 1.5. '1.5' does not match '^[0-9]+$'"},
	{flavorCreate, `{"flavor": {"name": "f", "ram": 1, "vcpus": 1.5, "disk": 0}}`, "Invalid input for field/attribute vcpus. Value: 1.5. 1.5 is not of type 'integer', 'string'"},
	{flavorCreate, `{"flavor": {"name": "f", "ram": 1, "vcpus": 1, "disk": 0, "id": " x"}}`, "Invalid input for field/attribute id. Value:  x. ' x' does not match '^(?! )[a-zA-Z0-9. _-]+(?<! )$'"},
	{flavorCreate, `{"flavor": {"name": "f", "ram": 1, "vcpus": 1, "disk": 0, "id": "x "}}`, "Invalid input for field/attribute id. Value: x . 'x ' does not match '^(?! )[a-zA-Z0-9. _-]+(?<! )$'"},
	{flavorCreate, `{"flavor": {"name": "f", "ram": 1, "vcpus": 1, "disk": 0, "id": "a b"}}`, ""},
	{flavorCreate, `{"flavor": {"name": "f", "ram": 1, "vcpus": 1, "disk": 0, "id": "x\n"}}`, ""},
	{flavorCreate, `{"flavor": {"name": "f", "ram": 1, "vcpus": 1, "disk": 0, "id": ""}}`, "Invalid input for field/attribute id. Value: . '' is too short"},
	{flavorCreate, `{"flavor": {"name": "f", "ram": 1, "vcpus": 1, "disk": 0, "id": 12}}`, ""},
	{flavorCreate, `{"flavor": {"name": "f", "ram": 1, "vcpus": 1, "disk": 0, "id": true}}`, "Invalid input for field/attribute id. Value: True. True is not of type 'string', 'number', 'null'"},
	{flavorCreate, `{"flavor": {"name": "f", "ram": 1, "vcpus": 1, "disk": 0, "rxtx_factor": 0}}`, "Invalid input for field/attribute rxtx_factor. Value: 0. 0 is less than or equal to the minimum of 0"},
	{flavorCreate, `{"flavor": {"name": "f", "ram": 1, "vcpus": 1, "disk": 0, "rxtx_factor": "0"}}`, ""},
	{flavorCreate, `{"flavor": {"name": "f", "ram": 1, "vcpus": 1, "disk": 0, "rxtx_factor": 0.0}}`, "Invalid input for field/attribute rxtx_factor. Value: 0.0. 0.0 is less than or equal to the minimum of 0"},
	{flavorCreate, `{"flavor": {"name": "f", "ram": 1, "vcpus": 1, "disk": 0, "rxtx_factor": 4e38}}`, "Invalid input for field/attribute rxtx_factor. Value: 4e+38. 399999999999999990995239293824136118272 is greater than the maximum of 3.40282e+38"},
	{flavorCreate, `{"flavor": {"name": "f", "ram": 1, "vcpus": 1, "disk": 0, "rxtx_factor": "1.x"}}`, "Invalid input for field/attribute rxtx_factor. Value: 1.x. '1.x' does not match '^[0-9]+(\\\\.[0-9]+)?$'"},
	{flavorCreate, `{"flavor": {"name": "f", "ram": 1, "vcpus": 1, "disk": 0, "os-flavor-access:is_public": "nope"}}`, "Invalid input for field/attribute os-flavor-access:is_public. Value: nope. 'nope' is not one of [True, 'True', 'TRUE', 'true', '1', 'ON', 'On', 'on', 'YES', 'Yes', 'yes', False, 'False', 'FALSE', 'false', '0', 'OFF', 'Off', 'off', 'NO', 'No', 'no']"},
	{flavorCreate, `{"flavor": {"name": "  ", "ram": 1, "vcpus": 1, "disk": 0}}`, "An invalid 'name' value was provided. The name must be: printable characters. Can not start or end with whitespace."},
	{flavorCreate, `{"flavor": {"ram": 1, "vcpus": 1, "disk": 0, "zzz": 1}}`, "Invalid input for field/attribute flavor. Value: {'ram': 1, 'vcpus': 1, 'disk': 0, 'zzz': 1}. 'name' is a required property"},
	{flavorCreate, `{"flavor": null}`, "Invalid input for field/attribute flavor. Value: None. None is not of type 'object'"},
	{keypairCreate, `{"keypair": {"name": "a/b"}}`, "Invalid input for field/attribute name. Value: a/b. 'a/b' does not match '^[_\\\\- a-zA-Z0-9]+$'"},
	{keypairCreate, `{"keypair": {"name": " ab"}}`, "An invalid 'name' value was provided. The name must be: printable characters. Can not start or end with whitespace."},
	{keypairCreate, `{"keypair": {"name": ""}}`, "Invalid input for field/attribute name. Value: . '' is too short"},
	{keypairCreate, `{"keypair": {"name": "ok", "type": "rsa"}}`, "Invalid input for field/attribute type. Value: rsa. 'rsa' is not one of ['ssh', 'x509']"},
	{keypairCreate, `{"keypair": {"public_key": "x"}}`, "Invalid input for field/attribute keypair. Value: {'public_key': 'x'}. 'name' is a required property"},
	{keypairCreate, `{"keypair": {"name": "ok", "public_key": 5}}`, "Invalid input for field/attribute public_key. Value: 5. 5 is not of type 'string'"},
	{metaUpdate, `{"meta": {}}`, "Invalid input for field/attribute meta. Value: {}. {} does not have enough properties"},
	{metaUpdate, `{"meta": {"a": "1", "b": "2"}}`, "Invalid input for field/attribute meta. Value: {'a': '1', 'b': '2'}. {'a': '1', 'b': '2'} has too many properties"},
	{metaUpdate, `{"meta": {"a b!": "1"}}`, "Invalid input for field/attribute meta. Value: {'a b!': '1'}. 'a b!' does not match any of the regexes: '^[a-zA-Z0-9-_:. ]{1,255}$'"},
	{metaUpdate, `{"meta": {"a": null}}`, "Invalid input for field/attribute a. Value: None. None is not of type 'string'"},
	{reboot, `{"reboot": {"type": "bar"}}`, "Invalid input for field/attribute type. Value: bar. 'bar' is not one of ['HARD', 'Hard', 'hard', 'SOFT', 'Soft', 'soft']"},
	{reboot, `{"reboot": {}}`, "Invalid input for field/attribute reboot. Value: {}. 'type' is a required property"},
	{reboot, `{"reboot": null}`, "Invalid input for field/attribute reboot. Value: None. None is not of type 'object'"},
	{console, `{"os-getConsoleOutput": {"length": -2}}`, "Invalid input for field/attribute length. Value: -2. -2 is less than the minimum of -1"},
	{console, `{"os-getConsoleOutput": {"length": "-2"}}`, "Invalid input for field/attribute length. Value: -2. -2 is less than the minimum of -1"},
	{console, `{"os-getConsoleOutput": {"length": "abc"}}`, "Invalid input for field/attribute length. Value: abc. 'abc' does not match '^-?[0-9]+$'"},
	{console, `{"os-getConsoleOutput": {"length": null}}`, ""},
	{console, `{"os-getConsoleOutput": {"length": 1.5}}`, "Invalid input for field/attribute length. Value: 1.5. 1.5 is not of type 'integer', 'string', 'null'"},
	{console, `{"os-getConsoleOutput": {"length": -1.5}}`, "Invalid input for field/attribute length. Value: -1.5. -1.5 is not of type 'integer', 'string', 'null'"},
	{query, `{"limit": ["-1"]}`, "Invalid input for query parameters limit. Value: -1. '-1' does not match '^[0-9]*$'"},
	{query, `{"limit": ["10", "x"]}`, "Invalid input for query parameters limit. Value: x. 'x' does not match '^[0-9]*$'"},
	{query, `{"sort_dir": ["up"]}`, "Invalid input for query parameters sort_dir. Value: up. 'up' is not one of ['asc', 'desc']"},
	{query, `{"foo": ["1"]}`, "Additional properties are not allowed ('foo' was unexpected)"},
	{serverCreate, `{"server": {"name": "a", "flavorRef": "1", "networks": [{"uuid": "7406397a-27ac-4e4d-9cb6-54648d9c389f", "tag": "t"}, {"port": "7406397a27ac4e4d9cb654648d9c389f"}], "metadata": {"k": "v"}, "min_count": 2, "max_count": "3", "config_drive": "Yes", "return_reservation_id": false, "accessIPv4": "1.2.3.4", "accessIPv6": "::1", "user_data": "aGVsbG8=", "tags": ["a"], "trusted_image_certificates": null, "OS-DCF:diskConfig": "AUTO", "description": "d", "hostname": "ab", "host": "h.x"}}`, ""},
	{serverCreate, `{"server": {"name": "a", "flavorRef": 1, "networks": "auto", "min_count": 1e400}}`, "Invalid input for field/attribute min_count. Value: inf. inf is not of type 'integer', 'string'"},
	{serverCreate, `{"server": {"name": "a", "flavorRef": "1", "networks": "auto", "min_count": "1_0"}}`, "Invalid input for field/attribute min_count. Value: 1_0. '1_0' does not match '^[0-9]*$'"},
	{serverCreate, `{"server": {"name": "a", "flavorRef": "1", "networks": [{"port": "7406397a-27ac-4e4d-9cb6-54648d9c389"}]}}`, "Invalid input for field/attribute networks. Value: [{'port': '7406397a-27ac-4e4d-9cb6-54648d9c389'}]. [{'port': '7406397a-27ac-4e4d-9cb6-54648d9c389'}] is not valid under any of the given schemas"},
	{flavorCreate, `{"flavor": {"name": "f", "ram": 1, "vcpus": 1, "disk": 0, "rxtx_factor": 1.5, "id": "a.b_c-d", "os-flavor-access:is_public": "off", "description": null}}`, ""},
	{flavorCreate, `{"flavor": {"name": "f", "ram": 1, "vcpus": 1, "disk": 0, "id": 1.5}}`, ""},
}

func TestNovaMessages(t *testing.T) {
	for _, tc := range novaCases {
		v, err := Decode([]byte(tc.body))
		if err != nil {
			t.Fatalf("Decode(%s): %v", tc.body, err)
		}
		validate := tc.schema.Validate
		if tc.schema == query {
			validate = tc.schema.ValidateQuery
		}
		got := ""
		if verr := validate(v); verr != nil {
			got = verr.Error()
		}
		if got != tc.want {
			t.Errorf("body %s\n got: %s\nwant: %s", tc.body, got, tc.want)
		}
	}
}

func TestSchemasCompile(t *testing.T) {
	for i, s := range allTestSchemas {
		if err := Compile(s); err != nil {
			t.Errorf("schema %d: %v", i, err)
		}
	}
}

// Long values are built here rather than spelled out in the table.
func TestNovaMessagesLong(t *testing.T) {
	x256 := strings.Repeat("x", 256)
	tags51 := make([]any, 51)
	for i := range tags51 {
		tags51[i] = "t" + itoa(i)
	}
	server := func(extra ...any) *Object {
		o := NewObject()
		o.Set("name", "a")
		o.Set("flavorRef", "1")
		o.Set("networks", "auto")
		for i := 0; i < len(extra); i += 2 {
			o.Set(extra[i].(string), extra[i+1])
		}
		body := NewObject()
		body.Set("server", o)
		return body
	}
	meta := func(k, v string) *Object {
		m := NewObject()
		m.Set(k, v)
		return m
	}
	cases := []struct {
		body any
		want string
	}{
		{server("name", x256), "Invalid input for field/attribute name. Value: " + x256 + ". '" + x256 + "' is too long"},
		{server("name", " "+x256), "An invalid 'name' value was provided. The name must be: printable characters. Can not start or end with whitespace."},
		{server("metadata", meta("k", strings.Repeat("v", 256))),
			"Invalid input for field/attribute k. Value: " + strings.Repeat("v", 256) + ". '" + strings.Repeat("v", 256) + "' is too long"},
		{server("metadata", meta(strings.Repeat("k", 256), "v")),
			"Invalid input for field/attribute metadata. Value: {'" + strings.Repeat("k", 256) + "': 'v'}. '" + strings.Repeat("k", 256) +
				"' does not match any of the regexes: '^[a-zA-Z0-9-_:. ]{1,255}$'"},
		{server("user_data", strings.Repeat("A", 65536)),
			"Invalid input for field/attribute user_data. Value: " + strings.Repeat("A", 65536) + ". '" + strings.Repeat("A", 65536) + "' is too long"},
		{server("tags", tags51), "Invalid input for field/attribute tags. Value: " + Repr(tags51) + ". " + Repr(tags51) + " is too long"},
		{server("tags", append(tags51[:50:50], "a/b")), "Invalid input for field/attribute 50. Value: a/b. 'a/b' does not match '^[^,/]*$'"},
	}
	for i, tc := range cases {
		got := ""
		if err := serverCreate.Validate(tc.body); err != nil {
			got = err.Error()
		}
		if got != tc.want {
			t.Errorf("case %d:\n got: %.300s\nwant: %.300s", i, got, tc.want)
		}
	}
}

func itoa(i int) string { return Repr(i) }
