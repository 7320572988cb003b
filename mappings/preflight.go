package mappings

import (
	"context"
	"fmt"
	"regexp"

	"github.com/elastic/go-elasticsearch/v8/esapi"
)

// rolloverSuffix is the -00000N suffix of concrete alerts indices.
var rolloverSuffix = regexp.MustCompile(`-[0-9]{6}$`)

// validateSpaceNames refuses a space whose alias would be the name of
// another space's concrete index: the alias of space "default-000001" is
// the first index of space "default".
func validateSpaceNames(space string) error {
	if rolloverSuffix.MatchString(space) {
		return fmt.Errorf("space %q: ends like a rollover index (-NNNNNN), so its alias %s would be the name of an alerts index of space %q",
			space, AlertsAlias(space), space[:len(space)-7])
	}
	return nil
}

// preflight checks, before Install writes anything, that the alerts alias
// can be created: its name must not be taken by an index or data stream.
// Without it, Install would leave a template behind and then fail on the
// alias.
func preflight(ctx context.Context, c esapi.Transport, alias string) error {
	exists, err := aliasExists(ctx, c, alias)
	if err != nil || exists {
		return err
	}
	taken, err := indexExists(ctx, c, alias)
	if err != nil {
		return err
	}
	if taken {
		return fmt.Errorf("%s is an index, not an alias: esrule needs this name for the write alias of the space's alerts (rename or delete that index, or use another space); nothing was installed", alias)
	}
	return nil
}
