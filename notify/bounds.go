package notify

import (
	"fmt"

	"github.com/esrule/esrule/internal/inputbound"
)

// checkFileBounds refuses an actions file larger than
// inputbound.MaxConfigFileSize or beyond inputbound.DefaultTOMLLimits before
// it is decoded (the TOML decoder's memory grows with the square of the
// nesting depth).
func checkFileBounds(data []byte) error {
	if len(data) > inputbound.MaxConfigFileSize {
		return fmt.Errorf("parse actions file: larger than %d bytes", inputbound.MaxConfigFileSize)
	}
	if err := inputbound.CheckTOML(data, inputbound.DefaultTOMLLimits); err != nil {
		return fmt.Errorf("parse actions file: %w", err)
	}
	return nil
}
