//go:build !unix

package imapsource

import "errors"

func mapFile(string, int) ([]byte, error) { return nil, errors.New("not supported here") }
