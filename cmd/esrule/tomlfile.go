package main

import (
	"fmt"

	"github.com/esrule/esrule/internal/inputbound"
)

// readTOMLFile reads the config or actions file at path: at most
// inputbound.MaxConfigFileSize bytes, within inputbound.DefaultTOMLLimits, so
// that no content can make the TOML decoder exhaust memory.
func readTOMLFile(path string) ([]byte, error) {
	data, err := inputbound.ReadFile(path, inputbound.MaxConfigFileSize)
	if err != nil {
		return nil, err
	}
	if err := inputbound.CheckTOML(data, inputbound.DefaultTOMLLimits); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return data, nil
}
