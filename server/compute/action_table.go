package compute

import "minicloud/server/instance"

// serverActions is every action of POST /servers/{id}/action Nova knows
// (the 41 @wsgi.action methods of the servers controller and its
// extensions), with the microversions each exists in and the schemas that
// validate it. A read-only table built once.
var serverActions = map[string]*serverAction{
	"reboot": {schemas: []actionSchema{schemaAlways(rebootSchema())},
		actionFuncs: actionTyped(decodeReboot, (*Service).rebootServer)},
	"os-start": {schemas: []actionSchema{schemaAlways(actionBody("os-start", actAny()))},
		actionFuncs: simpleAction(serverActionPolicy+"start", "start", (*instance.Manager).PowerOn)},
	"os-stop": {schemas: []actionSchema{schemaAlways(actionBody("os-stop", actAny()))},
		actionFuncs: simpleAction(serverActionPolicy+"stop", "stop", (*instance.Manager).PowerOff)},
	"confirmResize": {schemas: []actionSchema{schemaAlways(actionBody("confirmResize", actAny()))},
		actionFuncs: actionBare((*Service).confirmResize)},
	"revertResize": {schemas: []actionSchema{schemaAlways(actionBody("revertResize", actAny()))},
		actionFuncs: actionBare((*Service).revertResize)},
	"resize": {schemas: []actionSchema{schemaAlways(resizeSchema())},
		actionFuncs: actionTyped(decodeResize, (*Service).resizeServer)},
	"rebuild": {schemas: rebuildSchemas(),
		actionFuncs: actionTyped(decodeRebuild, (*Service).rebuildServer)},
	"createImage": {schemas: []actionSchema{schemaLegacyOnly(createImageSchema(true)), schemaBetween(1, 0, createImageSchema(false))},
		actionFuncs: actionTyped(decodeCreateImage, (*Service).createImage)},
	"trigger_crash_dump": {since: 17, schemas: []actionSchema{schemaAlways(triggerCrashDumpSchema())},
		actionFuncs: simpleAction(serverActionPolicy+"trigger_crash_dump", "trigger_crash_dump", (*instance.Manager).TriggerCrashDump)},

	"resetNetwork": {actionFuncs: actionBare(resetNetwork)},
	"injectNetworkInfo": {schemas: []actionSchema{schemaAlways(actionBody("injectNetworkInfo", actAny()))},
		actionFuncs: actionBare((*Service).injectNetworkInfo)},
	"os-resetState": {schemas: []actionSchema{schemaAlways(resetStateSchema())},
		actionFuncs: actionTyped(decodeResetState, (*Service).resetState)},
	"changePassword": {schemas: []actionSchema{schemaAlways(changePasswordSchema())},
		actionFuncs: actionTyped(decodeChangePassword, (*Service).changePassword)},
	"os-getConsoleOutput": {schemas: []actionSchema{schemaAlways(consoleOutputSchema())},
		actionFuncs: actionTyped(decodeConsoleOutput, (*Service).consoleOutput)},
	"createBackup": {schemas: []actionSchema{schemaLegacyOnly(createBackupSchema(true)), schemaBetween(1, 0, createBackupSchema(false))},
		actionFuncs: actionTyped(decodeCreateBackup, (*Service).createBackup)},
	"restore": {schemas: []actionSchema{schemaAlways(actionBody("restore", actAny()))},
		actionFuncs: actionBare((*Service).restoreServer)},
	"forceDelete": {schemas: []actionSchema{schemaAlways(actionBody("forceDelete", actAny()))},
		actionFuncs: actionBare((*Service).forceDeleteServer)},
	"evacuate": {schemas: evacuateSchemas(),
		actionFuncs: actionTyped(decodeEvacuate, (*Service).evacuateServer)},

	"lock": {schemas: []actionSchema{schemaBetween(1, 72, lockSchema(false)), schemaBetween(73, 0, lockSchema(true))},
		actionFuncs: actionTyped(decodeLock, (*Service).lockServer)},
	// Nova validates unlock only up to 2.72.
	"unlock": {schemas: []actionSchema{schemaBetween(1, 72, actionBody("unlock", actAny()))},
		actionFuncs: actionBare((*Service).unlockServer)},
	"pause": {schemas: []actionSchema{schemaAlways(actionBody("pause", actAny()))},
		actionFuncs: simpleAction("os_compute_api:os-pause-server:pause", "pause", (*instance.Manager).Pause)},
	"unpause": {schemas: []actionSchema{schemaAlways(actionBody("unpause", actAny()))},
		actionFuncs: simpleAction("os_compute_api:os-pause-server:unpause", "unpause", (*instance.Manager).Unpause)},
	"suspend": {schemas: []actionSchema{schemaAlways(actionBody("suspend", actAny()))},
		actionFuncs: simpleAction("os_compute_api:os-suspend-server:suspend", "suspend", (*instance.Manager).Suspend)},
	"resume": {schemas: []actionSchema{schemaAlways(actionBody("resume", actAny()))},
		actionFuncs: simpleAction("os_compute_api:os-suspend-server:resume", "resume", (*instance.Manager).Resume)},

	// Nova validates migrate only from 2.56, when it took a host.
	"migrate": {schemas: []actionSchema{schemaBetween(56, 0, migrateSchema())},
		actionFuncs: actionTyped(decodeMigrate, (*Service).migrateServer)},
	"os-migrateLive": {schemas: migrateLiveSchemas(),
		actionFuncs: actionTyped(decodeLiveMigrate, (*Service).liveMigrateServer)},

	"shelve": {schemas: []actionSchema{schemaAlways(actionBody("shelve", actAny()))},
		actionFuncs: simpleAction(shelvePolicy+"shelve", "shelve", (*instance.Manager).Shelve)},
	"shelveOffload": {schemas: []actionSchema{schemaAlways(actionBody("shelveOffload", actAny()))},
		actionFuncs: actionBare((*Service).shelveOffloadServer)},
	"unshelve": {schemas: []actionSchema{schemaBetween(1, 76, unshelveSchema(1)), schemaBetween(77, 90, unshelveSchema(77)), schemaBetween(91, 0, unshelveSchema(91))},
		actionFuncs: actionTyped(decodeUnshelve, (*Service).unshelveServer)},
	"rescue": {schemas: []actionSchema{schemaAlways(rescueSchema())},
		actionFuncs: actionTyped(decodeRescue, (*Service).rescueServer)},
	"unrescue": {schemas: []actionSchema{schemaAlways(actionBody("unrescue", actAny()))},
		actionFuncs: simpleAction(unrescuePolicy, "unrescue", (*instance.Manager).Unrescue)},

	"addSecurityGroup": {schemas: []actionSchema{schemaAlways(securityGroupActionSchema("addSecurityGroup"))},
		actionFuncs: actionTyped(decodeSecurityGroupName, (*Service).addSecurityGroup)},
	"removeSecurityGroup": {schemas: []actionSchema{schemaAlways(securityGroupActionSchema("removeSecurityGroup"))},
		actionFuncs: actionTyped(decodeSecurityGroupName, (*Service).removeSecurityGroup)},
	"addFloatingIp": {since: 1, until: 43, schemas: []actionSchema{schemaAlways(floatingIPSchema("addFloatingIp", true))},
		actionFuncs: actionTyped(decodeFloatingIP, (*Service).addFloatingIP)},
	"removeFloatingIp": {since: 1, until: 43, schemas: []actionSchema{schemaAlways(floatingIPSchema("removeFloatingIp", false))},
		actionFuncs: actionTyped(decodeFloatingIP, (*Service).removeFloatingIP)},
	"addFixedIp": {since: 1, until: 43, schemas: []actionSchema{schemaAlways(addFixedIPSchema())},
		actionFuncs: actionBare((*Service).addFixedIP)},
	"removeFixedIp": {since: 1, until: 43, schemas: []actionSchema{schemaAlways(removeFixedIPSchema())},
		actionFuncs: actionBare((*Service).removeFixedIP)},

	// Console actions, answered by the console service (consoles.go).
	"os-getVNCConsole":    {since: 1, until: 5, console: true},
	"os-getSPICEConsole":  {since: 1, until: 5, console: true},
	"os-getSerialConsole": {since: 1, until: 5, console: true},
	"os-getRDPConsole":    {since: 1, until: 5, console: true},
}
