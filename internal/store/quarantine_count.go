package store

// QuarantineCount is the number of quarantine records, read from the bucket's
// statistics without decoding them.
func (t *Tx) QuarantineCount() int { return t.tx.Bucket(bQuarantine).Stats().KeyN }
