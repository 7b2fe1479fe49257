//go:build !unix

package intake

import "errors"

func mapFile(string, int) ([]byte, error) { return nil, errors.New("not supported here") }
