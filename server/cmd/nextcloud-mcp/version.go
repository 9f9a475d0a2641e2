package main

import (
	"runtime/debug"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server"
)

func version() string {
	v := server.Version
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v += " (" + s.Value[:12] + ")"
			}
		}
	}
	return v
}
