package store

import "time"

// ConsoleToken is a console authorization, Nova's console_auth_tokens row:
// whoever holds the token may open that console of that instance until it
// expires. Only the token's SHA-256 is kept, so the state file (or a backup
// of it) gives no one a way into a console.
type ConsoleToken struct {
	// Hash is the hex SHA-256 of the token.
	Hash       string `json:"hash"`
	InstanceID string `json:"instance_id"`
	// ConsoleType is the API's console type: "novnc", "serial".
	ConsoleType string `json:"console_type"`
	// Host and Port are where the console's server is, as the
	// os-console-auth-tokens API shows them: the compute host, and port 0
	// because the console is a socket the hypervisor driver opens, not a
	// TCP port.
	Host string `json:"host"`
	Port int    `json:"port"`
	// InternalAccessPath is Nova's path for a CONNECT through a further
	// proxy; nil (null) here.
	InternalAccessPath *string `json:"internal_access_path,omitempty"`
	// AccessURLBase is the URL the token was handed out with, before the
	// token was added (the websocket proxy checks the origin's scheme
	// against it).
	AccessURLBase string    `json:"access_url_base"`
	CreatedAt     time.Time `json:"created_at"`
	ExpiresAt     time.Time `json:"expires_at"`
}

// ConsoleTokens holds the console tokens by hash; the "instance" index finds
// an instance's tokens, to drop them when the instance goes away.
var ConsoleTokens = NewTable("console_tokens", func(t *ConsoleToken) string { return t.Hash },
	Index[ConsoleToken]{Name: "instance", Keys: func(t *ConsoleToken) []string { return []string{t.InstanceID} }})

// DeleteConsoleTokens removes every token of an instance, in the caller's
// transaction (the instance's delete, say).
func DeleteConsoleTokens(tx *Tx, instanceID string) error {
	var hashes []string
	err := ConsoleTokens.ScanIndex(tx, "instance", instanceID, func(t *ConsoleToken) (bool, error) {
		hashes = append(hashes, t.Hash)
		return true, nil
	})
	if err != nil {
		return err
	}
	for _, h := range hashes {
		if err := ConsoleTokens.Delete(tx, h); err != nil {
			return err
		}
	}
	return nil
}
