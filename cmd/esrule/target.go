package main

import (
	"github.com/spf13/pflag"

	"github.com/esrule/esrule/mappings"
)

// targetOptions say where alerts go and what kibana.version they carry; they
// are global flags, since run, serve, backfill, alerts and setup share them.
type targetOptions struct {
	target        mappings.Target
	kibanaVersion string
}

func (o *targetOptions) addTargetFlags(f *pflag.FlagSet) {
	o.target = mappings.TargetEsrule
	f.Var(targetValue{&o.target}, "alerts-target",
		"where alerts are written: esrule (esrule-alerts-<space>, installed by esrule) or kibana (Kibana's .alerts-security.alerts-<space>, created by Kibana)")
	f.StringVar(&o.kibanaVersion, "kibana-version", "",
		"kibana.version written in the alerts (default: the version of the Elasticsearch cluster, which a Kibana of the same stack has)")
}

// alias is the alerts write alias of space.
func (o *targetOptions) alias(space string) string { return o.target.Alias(space) }

// targetValue is the pflag.Value of --alerts-target.
type targetValue struct{ t *mappings.Target }

func (v targetValue) String() string {
	if v.t == nil {
		return ""
	}
	return string(*v.t)
}

func (v targetValue) Set(s string) error {
	t, err := mappings.ParseTarget(s)
	if err != nil {
		return err
	}
	*v.t = t
	return nil
}

func (v targetValue) Type() string { return "target" }
