package cliconfig

import (
	"fmt"
	"strings"

	"github.com/spf13/pflag"
)

// ApplyEnv fills every flag of fs not set on the command line from
// ESRULE_<NAME> (dashes become underscores), read with lookupEnv
// (os.LookupEnv). Flags take precedence over the environment, which takes
// precedence over the config file (Apply).
func ApplyEnv(fs *pflag.FlagSet, lookupEnv func(string) (string, bool)) error {
	var err error
	fs.VisitAll(func(fl *pflag.Flag) {
		if fl.Changed || err != nil {
			return
		}
		name := "ESRULE_" + strings.ToUpper(strings.ReplaceAll(fl.Name, "-", "_"))
		v, ok := lookupEnv(name)
		if !ok {
			return
		}
		if e := fs.Set(fl.Name, v); e != nil {
			err = fmt.Errorf("environment %s: %w", name, e)
		}
	})
	return err
}
