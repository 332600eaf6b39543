// Package webui is the browser side of minicloud: its own pages, and the
// third-party code installed into dist/ by install.sh before the build
// (noVNC, from the npm registry). The binary runs without the latter; the
// pages then say how to install it.
package webui

import (
	"embed"
	"encoding/json"
	"io/fs"
)

//go:generate sh install.sh

//go:embed console
var pages embed.FS

//go:embed all:dist
var dist embed.FS

// Pages holds the console pages (html/template files under console/).
func Pages() fs.FS {
	sub, err := fs.Sub(pages, "console")
	if err != nil {
		panic(err) // the directory is embedded above
	}
	return sub
}

// NoVNC is noVNC's ES-module tree (core/rfb.js, vendor/pako, licences),
// and whether it was installed before the build.
func NoVNC() (fs.FS, bool) {
	sub, err := fs.Sub(dist, "dist/novnc")
	if err != nil {
		return nil, false
	}
	if _, err := fs.Stat(sub, "core/rfb.js"); err != nil {
		return nil, false
	}
	return sub, true
}

// NoVNCVersion is the installed noVNC's version, "" when absent.
func NoVNCVersion() string {
	sub, ok := NoVNC()
	if !ok {
		return ""
	}
	data, err := fs.ReadFile(sub, "package.json")
	if err != nil {
		return ""
	}
	return versionOf(data)
}

func versionOf(packageJSON []byte) string {
	var p struct {
		Version string `json:"version"`
	}
	if json.Unmarshal(packageJSON, &p) != nil {
		return ""
	}
	return p.Version
}
