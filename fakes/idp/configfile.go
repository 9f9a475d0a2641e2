package idp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
)

// FileConfig is the JSON configuration file of the fake-idp binary
// (--config). Users and clients are merged into the base configuration by
// user name and client id (same key replaces, new key adds); scopes are
// added. With replace_defaults the base lists are dropped first.
type FileConfig struct {
	ReplaceDefaults bool     `json:"replace_defaults"`
	Users           []User   `json:"users"`
	Clients         []Client `json:"clients"`
	Scopes          []string `json:"scopes"`
}

// LoadConfigFile reads a FileConfig from path and applies it to base.
func LoadConfigFile(path string, base Config) (Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return base, fmt.Errorf("idp: read config: %w", err)
	}
	return ApplyConfigJSON(b, base)
}

// ApplyConfigJSON applies a FileConfig document to base. Unknown fields are
// errors, so typos do not pass silently.
func ApplyConfigJSON(doc []byte, base Config) (Config, error) {
	var fc FileConfig
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&fc); err != nil {
		return base, fmt.Errorf("idp: config file: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return base, errors.New("idp: config file: trailing data after the JSON object")
	}
	out := base
	if fc.ReplaceDefaults {
		out.Users, out.Clients, out.Scopes = nil, nil, nil
	} else {
		out.Users, out.Clients, out.Scopes = slices.Clone(base.Users), slices.Clone(base.Clients), slices.Clone(base.Scopes)
	}
	for _, u := range fc.Users {
		if i := slices.IndexFunc(out.Users, func(x User) bool { return x.Username == u.Username }); i >= 0 {
			out.Users[i] = u
		} else {
			out.Users = append(out.Users, u)
		}
	}
	for _, c := range fc.Clients {
		if i := slices.IndexFunc(out.Clients, func(x Client) bool { return x.ID == c.ID }); i >= 0 {
			out.Clients[i] = c
		} else {
			out.Clients = append(out.Clients, c)
		}
	}
	for _, s := range fc.Scopes {
		if !slices.Contains(out.Scopes, s) {
			out.Scopes = append(out.Scopes, s)
		}
	}
	return out, nil
}
