package inputbound

import (
	"fmt"
	"io"
	"os"
)

// MaxConfigFileSize bounds the config file and the actions file (1 MiB, as
// rule files are bounded).
const MaxConfigFileSize = 1 << 20

// ReadFile reads the regular file at path if it holds at most limit bytes;
// a larger file, a device or a FIFO is an error, and never more than limit+1
// bytes are read.
func ReadFile(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	if info.Size() > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, limit)
	}
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, limit)
	}
	return b, nil
}
