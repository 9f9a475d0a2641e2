package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/oauth/tokenstore"
)

func keygenCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("keygen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: nextcloud-mcp keygen\n\nPrints a new random TOKEN_ENCRYPTION_KEY (base64 of 32 bytes) for the encrypted token store.")
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return err
		}
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected arguments %q", fs.Args())}
	}
	key, err := tokenstore.GenerateKey()
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, key)
	return err
}
