// Package config reads complaintd's YAML configuration strictly: unknown keys are errors,
// defaults are filled in once, and Validate reports every problem at once, each with its
// key path (e.g. "imap.port: must be 1-65535"). After Load nothing else parses strings or
// falls back silently.
package config

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"time"

	"github.com/complaintd/complaintd/internal/policy"
	"go.yaml.in/yaml/v3"
)

// Config is the whole file. Field comments give the default.
type Config struct {
	IMAP      IMAP      `yaml:"imap"`
	SMTP      SMTP      `yaml:"smtp"`
	Store     Store     `yaml:"store"`
	Staff     Staff     `yaml:"staff"`
	Templates Templates `yaml:"templates"`
	Policy    Policy    `yaml:"policy"`
	Schedule  Schedule  `yaml:"schedule"`
	HTTP      HTTP      `yaml:"http"`
}

// IMAP is the service mailbox.
type IMAP struct {
	Host     string `yaml:"host"`
	Port     int    `yaml:"port"`     // 993 for tls, else 143
	TLS      string `yaml:"tls"`      // none | starttls | tls; default tls
	Username string `yaml:"username"` //
	Password string `yaml:"password"` // or COMPLAINTD_IMAP_PASSWORD
	Mailbox  string `yaml:"mailbox"`  // INBOX
	// Idle uses IMAP IDLE when the server offers it (default true); else polls.
	Idle         *bool         `yaml:"idle"`
	PollInterval time.Duration `yaml:"poll_interval"` // 60s; also the IDLE re-check interval
	// Processed is what happens to a mail once registered: "flag" (keyword
	// $Complaintd), "move" (to ProcessedFolder), or "none". Default flag.
	Processed        string        `yaml:"processed"`
	ProcessedFolder  string        `yaml:"processed_folder"`  // Processed when processed=move
	QuarantineFolder string        `yaml:"quarantine_folder"` // Quarantine
	MaxAttempts      int           `yaml:"max_attempts"`      // 3: attempts before a mail is quarantined
	CommandTimeout   time.Duration `yaml:"command_timeout"`   // 60s watchdog per IMAP command
	FetchTimeout     time.Duration `yaml:"fetch_timeout"`     // 5m watchdog per message download
	Limits           Limits        `yaml:"limits"`
}

// Limits bound what one message may cost.
type Limits struct {
	MaxMessageBytes    int64 `yaml:"max_message_bytes"`    // 64 MiB
	MaxHeaderBytes     int   `yaml:"max_header_bytes"`     // 256 KiB
	MaxParts           int   `yaml:"max_parts"`            // 500
	MaxDepth           int   `yaml:"max_depth"`            // 20
	MaxAttachmentBytes int64 `yaml:"max_attachment_bytes"` // 40 MiB
}

// SMTP is the outgoing relay.
type SMTP struct {
	Host        string        `yaml:"host"`
	Port        int           `yaml:"port"` // 465 for tls, 587 for starttls, else 25
	TLS         string        `yaml:"tls"`  // none | starttls | tls; default starttls
	Username    string        `yaml:"username"`
	Password    string        `yaml:"password"` // or COMPLAINTD_SMTP_PASSWORD
	From        string        `yaml:"from"`     // the desk's address, required
	FromName    string        `yaml:"from_name"`
	HELO        string        `yaml:"helo"`
	Timeout     time.Duration `yaml:"timeout"`      // 60s per SMTP transaction
	MaxAttempts int           `yaml:"max_attempts"` // 20 attempts before an outbox entry fails
	RetryMin    time.Duration `yaml:"retry_min"`    // 30s first retry delay (doubles)
	RetryMax    time.Duration `yaml:"retry_max"`    // 1h longest retry delay
	// AutoReplyLimit caps automatic replies to one sender over a sliding window.
	AutoReplyLimit  int           `yaml:"auto_reply_limit"`  // 10
	AutoReplyWindow time.Duration `yaml:"auto_reply_window"` // 1h
}

// Store is where cases live.
type Store struct {
	Path           string        `yaml:"path"`            // complaintd.db
	AttachmentsDir string        `yaml:"attachments_dir"` // attachments (next to path)
	MasterKey      string        `yaml:"master_key"`      // 32 bytes, hex or base64; or COMPLAINTD_MASTER_KEY; else a generated key file next to the store
	LockTimeout    time.Duration `yaml:"lock_timeout"`    // 10s to wait for the bbolt file lock
}

// Staff are the people who drive cases.
type Staff struct {
	Addresses []string          `yaml:"addresses"` // who may send commands
	Notify    []string          `yaml:"notify"`    // who gets notifications (default: addresses)
	Admins    []string          `yaml:"admins"`    // who gets alerts and weekly reports
	Aliases   map[string]string `yaml:"aliases"`   // 转交 short names → address
	// Supervisors receive escalations when a review or processing deadline passes
	// (with the assignee, or the notify list when the case has none).
	Supervisors []string `yaml:"supervisors"` // default: admins
	// AppealReviewers get appealed cases instead of the notify list (a second pair
	// of eyes); empty: the notify list.
	AppealReviewers []string `yaml:"appeal_reviewers"`
	// AttachMaxBytes caps the documents attached to one staff notification; the
	// rest are listed with a note.
	AttachMaxBytes int64     `yaml:"attach_max_bytes"` // 20 MiB
	Auth           StaffAuth `yaml:"auth"`
}

// StaffAuth says how a staff command mail proves itself.
type StaffAuth struct {
	Mode       string `yaml:"mode"`        // token | auth-results | token+auth-results | token|auth-results; default token
	AuthServID string `yaml:"authserv_id"` // authserv-id of our own server's Authentication-Results
	Secret     string `yaml:"secret"`      // HMAC secret for case tokens; or COMPLAINTD_STAFF_SECRET; else derived from the master key
}

// Templates are the reply texts.
type Templates struct {
	Dir            string        `yaml:"dir"`             // empty: the embedded defaults
	Locale         string        `yaml:"locale"`          // zh-CN
	ReloadInterval time.Duration `yaml:"reload_interval"` // 5s file check
}

// Policy is the document policy and the deadlines.
type Policy struct {
	CasePrefix  string                `yaml:"case_prefix"`  // TS
	Documents   []policy.DocumentRule `yaml:"documents"`    // default: SPEC §2
	ReviewDays  int                   `yaml:"review_days"`  // 3 business days
	ProcessDays int                   `yaml:"process_days"` // 5 business days
	ExpireDays  int                   `yaml:"expire_days"`  // 15 calendar days
	AppealDays  int                   `yaml:"appeal_days"`  // 15 calendar days
	// SensitiveKinds are the document kinds erased RetentionDays after a case ends
	// (PIPL); they are encrypted under their own per-case key for that reason.
	SensitiveKinds []string `yaml:"sensitive_kinds"` // [id_card, business_license, power_of_attorney, unclassified]
	RetentionDays  int      `yaml:"retention_days"`  // 180
	// AuthorDays is how long the author of an article has to answer a takedown
	// notice (听证申辩); the review deadline pauses meanwhile.
	AuthorDays int      `yaml:"author_days"` // 7 calendar days
	Calendar   Calendar `yaml:"calendar"`
	// ReminderBefore is how long before a review or processing deadline the
	// assignee (or the notify list) is reminded.
	ReminderBefore time.Duration `yaml:"reminder_before"` // 24h
	// Survey sends a satisfaction survey (回访) SurveyDelay after a case is resolved.
	Survey      bool          `yaml:"survey"`       // false
	SurveyDelay time.Duration `yaml:"survey_delay"` // 24h
	// The *_after durations override the matching *_days when set: for tests and
	// drills that need a deadline in seconds. Business days are then not counted.
	ReviewAfter    time.Duration `yaml:"review_after"`    // 0: use review_days
	ProcessAfter   time.Duration `yaml:"process_after"`   // 0: use process_days
	ExpireAfter    time.Duration `yaml:"expire_after"`    // 0: use expire_days
	RetentionAfter time.Duration `yaml:"retention_after"` // 0: use retention_days
	AppealAfter    time.Duration `yaml:"appeal_after"`    // 0: use appeal_days
}

// Calendar defines business days.
type Calendar struct {
	TimeZone string   `yaml:"time_zone"` // Asia/Shanghai
	Weekend  []string `yaml:"weekend"`   // [saturday, sunday]
	Holidays []string `yaml:"holidays"`  // YYYY-MM-DD days off
	Workdays []string `yaml:"workdays"`  // YYYY-MM-DD make-up working days (调休)
}

// Schedule holds cron specs (robfig/cron with seconds optional).
type Schedule struct {
	Deadlines string `yaml:"deadlines"` // @every 5m
	Digest    string `yaml:"digest"`    // 0 9 * * 1-5
	Weekly    string `yaml:"weekly"`    // 0 9 * * 1
	Retention string `yaml:"retention"` // 30 3 * * *
}

// HTTP serves health and metrics; the control socket serves the CLI.
type HTTP struct {
	Listen        string `yaml:"listen"`         // 127.0.0.1:8025; "" disables
	ControlSocket string `yaml:"control_socket"` // complaintd.sock next to the store; 0600
}

// Load reads, decodes strictly, applies defaults and environment secrets, and validates.
func Load(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	c, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	c.resolvePaths(filepath.Dir(path))
	return c, nil
}

// Parse decodes YAML text; see Load.
func Parse(b []byte) (*Config, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		return nil, fmt.Errorf("yaml: %w", err)
	}
	var problems []error
	if len(root.Content) > 0 {
		problems = append(problems, unknownKeys(root.Content[0], reflect.TypeOf(Config{}), "")...)
	}
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		problems = append(problems, fmt.Errorf("%s", strings.TrimPrefix(err.Error(), "yaml: ")))
	}
	if len(problems) > 0 {
		return nil, errors.Join(problems...)
	}
	c.applyEnv(os.Getenv)
	c.ApplyDefaults()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

// unknownKeys walks the YAML tree against the struct's yaml tags so an unknown key is
// reported with its full path and line, not as a Go type name.
func unknownKeys(n *yaml.Node, t reflect.Type, path string) []error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var errs []error
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
				return nil
			}
			if t == reflect.TypeOf(time.Duration(0)) {
				return nil
			}
			return []error{fmt.Errorf("%s: line %d: expected a mapping", orRoot(path), n.Line)}
		}
		fields := map[string]reflect.StructField{}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name := strings.Split(f.Tag.Get("yaml"), ",")[0]
			if name != "" && name != "-" {
				fields[name] = f
			}
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			f, ok := fields[k.Value]
			p := join(path, k.Value)
			if !ok {
				errs = append(errs, fmt.Errorf("%s: line %d: unknown key (known: %s)", p, k.Line, knownList(fields)))
				continue
			}
			errs = append(errs, unknownKeys(v, f.Type, p)...)
		}
	case reflect.Slice:
		if n.Kind == yaml.SequenceNode {
			for i, c := range n.Content {
				errs = append(errs, unknownKeys(c, t.Elem(), fmt.Sprintf("%s[%d]", path, i))...)
			}
		}
	case reflect.Map:
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				errs = append(errs, unknownKeys(n.Content[i+1], t.Elem(), join(path, n.Content[i].Value))...)
			}
		}
	}
	return errs
}

func knownList(fields map[string]reflect.StructField) string {
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	sortStrings(names)
	return strings.Join(names, ", ")
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

func join(a, b string) string {
	if a == "" {
		return b
	}
	return a + "." + b
}

func orRoot(p string) string {
	if p == "" {
		return "(top level)"
	}
	return p
}

func (c *Config) applyEnv(getenv func(string) string) {
	if v := getenv("COMPLAINTD_IMAP_PASSWORD"); v != "" {
		c.IMAP.Password = v
	}
	if v := getenv("COMPLAINTD_SMTP_PASSWORD"); v != "" {
		c.SMTP.Password = v
	}
	if v := getenv("COMPLAINTD_MASTER_KEY"); v != "" {
		c.Store.MasterKey = v
	}
	if v := getenv("COMPLAINTD_STAFF_SECRET"); v != "" {
		c.Staff.Auth.Secret = v
	}
}

// ApplyDefaults fills every zero field with its documented default.
func (c *Config) ApplyDefaults() {
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	defI := func(i *int, v int) {
		if *i == 0 {
			*i = v
		}
	}
	defD := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	i := &c.IMAP
	def(&i.TLS, "tls")
	if i.Port == 0 {
		i.Port = map[string]int{"tls": 993}[i.TLS]
		if i.Port == 0 {
			i.Port = 143
		}
	}
	def(&i.Mailbox, "INBOX")
	if i.Idle == nil {
		t := true
		i.Idle = &t
	}
	defD(&i.PollInterval, time.Minute)
	def(&i.Processed, "flag")
	def(&i.ProcessedFolder, "Processed")
	def(&i.QuarantineFolder, "Quarantine")
	defI(&i.MaxAttempts, 3)
	defD(&i.CommandTimeout, time.Minute)
	defD(&i.FetchTimeout, 5*time.Minute)
	l := &i.Limits
	if l.MaxMessageBytes == 0 {
		l.MaxMessageBytes = 64 << 20
	}
	defI(&l.MaxHeaderBytes, 256<<10)
	defI(&l.MaxParts, 500)
	defI(&l.MaxDepth, 20)
	if l.MaxAttachmentBytes == 0 {
		l.MaxAttachmentBytes = 40 << 20
	}

	s := &c.SMTP
	def(&s.TLS, "starttls")
	if s.Port == 0 {
		s.Port = map[string]int{"tls": 465, "starttls": 587}[s.TLS]
		if s.Port == 0 {
			s.Port = 25
		}
	}
	def(&s.FromName, "投诉受理中心")
	defD(&s.Timeout, time.Minute)
	defI(&s.MaxAttempts, 20)
	defD(&s.RetryMin, 30*time.Second)
	defD(&s.RetryMax, time.Hour)
	defI(&s.AutoReplyLimit, 10)
	defD(&s.AutoReplyWindow, time.Hour)

	def(&c.Store.Path, "complaintd.db")
	defD(&c.Store.LockTimeout, 10*time.Second)

	if len(c.Staff.Notify) == 0 {
		c.Staff.Notify = c.Staff.Addresses
	}
	def(&c.Staff.Auth.Mode, "token")
	if len(c.Staff.Supervisors) == 0 {
		c.Staff.Supervisors = c.Staff.Admins
	}
	if c.Staff.AttachMaxBytes == 0 {
		c.Staff.AttachMaxBytes = 20 << 20
	}

	def(&c.Templates.Locale, "zh-CN")
	defD(&c.Templates.ReloadInterval, 5*time.Second)

	p := &c.Policy
	def(&p.CasePrefix, "TS")
	if len(p.Documents) == 0 {
		p.Documents = policy.DefaultRules()
	}
	defI(&p.ReviewDays, 3)
	defI(&p.ProcessDays, 5)
	defI(&p.ExpireDays, 15)
	defI(&p.AppealDays, 15)
	if p.SensitiveKinds == nil {
		p.SensitiveKinds = []string{"id_card", "business_license", "power_of_attorney", "unclassified"}
	}
	defI(&p.RetentionDays, 180)
	defI(&p.AuthorDays, 7)
	def(&p.Calendar.TimeZone, "Asia/Shanghai")
	defD(&p.ReminderBefore, 24*time.Hour)
	defD(&p.SurveyDelay, 24*time.Hour)
	if len(p.Calendar.Weekend) == 0 {
		p.Calendar.Weekend = []string{"saturday", "sunday"}
	}

	def(&c.Schedule.Deadlines, "@every 5m")
	def(&c.Schedule.Digest, "0 9 * * 1-5")
	def(&c.Schedule.Weekly, "0 9 * * 1")
	def(&c.Schedule.Retention, "30 3 * * *")
}

func (c *Config) resolvePaths(base string) {
	abs := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(base, p)
	}
	c.Store.Path = abs(c.Store.Path)
	if c.Store.AttachmentsDir == "" {
		c.Store.AttachmentsDir = filepath.Join(filepath.Dir(c.Store.Path), "attachments")
	}
	c.Store.AttachmentsDir = abs(c.Store.AttachmentsDir)
	if c.HTTP.ControlSocket == "" {
		c.HTTP.ControlSocket = filepath.Join(filepath.Dir(c.Store.Path), "complaintd.sock")
	}
	c.HTTP.ControlSocket = abs(c.HTTP.ControlSocket)
	c.Templates.Dir = abs(c.Templates.Dir)
}

var prefixPattern = regexp.MustCompile(`^[A-Z]{1,8}$`)
var datePattern = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

// Validate returns every problem, each naming its key.
func (c *Config) Validate() error {
	var errs []error
	add := func(key, format string, a ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, a...)))
	}
	tlsMode := func(key, v string) {
		if v != "none" && v != "starttls" && v != "tls" {
			add(key, "must be none, starttls or tls, not %q", v)
		}
	}
	port := func(key string, p int) {
		if p < 1 || p > 65535 {
			add(key, "must be 1-65535, not %d", p)
		}
	}
	if c.IMAP.Host == "" {
		add("imap.host", "required")
	}
	port("imap.port", c.IMAP.Port)
	tlsMode("imap.tls", c.IMAP.TLS)
	if c.IMAP.Username == "" {
		add("imap.username", "required")
	}
	if c.IMAP.Password == "" {
		add("imap.password", "required (or set COMPLAINTD_IMAP_PASSWORD)")
	}
	switch c.IMAP.Processed {
	case "flag", "move", "none":
	default:
		add("imap.processed", "must be flag, move or none, not %q", c.IMAP.Processed)
	}
	if c.IMAP.PollInterval < time.Second {
		add("imap.poll_interval", "must be at least 1s")
	}
	if c.IMAP.MaxAttempts < 1 {
		add("imap.max_attempts", "must be at least 1")
	}
	if c.SMTP.Host == "" {
		add("smtp.host", "required")
	}
	port("smtp.port", c.SMTP.Port)
	tlsMode("smtp.tls", c.SMTP.TLS)
	if _, err := mail.ParseAddress(c.SMTP.From); err != nil {
		add("smtp.from", "must be an e-mail address: %v", err)
	}
	if (c.SMTP.Username == "") != (c.SMTP.Password == "") {
		add("smtp.password", "username and password go together (password may come from COMPLAINTD_SMTP_PASSWORD)")
	}
	if c.SMTP.AutoReplyLimit < 1 {
		add("smtp.auto_reply_limit", "must be at least 1")
	}
	if c.Store.MasterKey != "" {
		if _, err := DecodeKey(c.Store.MasterKey); err != nil {
			add("store.master_key", "%v", err)
		}
	}
	for i, a := range c.Staff.Addresses {
		if _, err := mail.ParseAddress(a); err != nil {
			add(fmt.Sprintf("staff.addresses[%d]", i), "not an e-mail address: %q", a)
		}
	}
	for i, a := range c.Staff.Notify {
		if _, err := mail.ParseAddress(a); err != nil {
			add(fmt.Sprintf("staff.notify[%d]", i), "not an e-mail address: %q", a)
		}
	}
	for i, a := range c.Staff.AppealReviewers {
		if _, err := mail.ParseAddress(a); err != nil {
			add(fmt.Sprintf("staff.appeal_reviewers[%d]", i), "not an e-mail address: %q", a)
		}
	}
	for i, a := range c.Staff.Admins {
		if _, err := mail.ParseAddress(a); err != nil {
			add(fmt.Sprintf("staff.admins[%d]", i), "not an e-mail address: %q", a)
		}
	}
	for i, a := range c.Staff.Supervisors {
		if _, err := mail.ParseAddress(a); err != nil {
			add(fmt.Sprintf("staff.supervisors[%d]", i), "not an e-mail address: %q", a)
		}
	}
	for k, a := range c.Staff.Aliases {
		if _, err := mail.ParseAddress(a); err != nil {
			add("staff.aliases."+k, "not an e-mail address: %q", a)
		}
	}
	switch c.Staff.Auth.Mode {
	case "token", "auth-results", "token+auth-results", "token|auth-results":
	default:
		add("staff.auth.mode", "must be token, auth-results, token+auth-results or token|auth-results, not %q", c.Staff.Auth.Mode)
	}
	if strings.Contains(c.Staff.Auth.Mode, "auth-results") && c.Staff.Auth.AuthServID == "" {
		add("staff.auth.authserv_id", "required when mode uses auth-results")
	}
	if c.Templates.Locale != "zh-CN" && c.Templates.Locale != "en" {
		add("templates.locale", "must be zh-CN or en, not %q", c.Templates.Locale)
	}
	if !prefixPattern.MatchString(c.Policy.CasePrefix) {
		add("policy.case_prefix", "must be 1-8 capital letters, not %q", c.Policy.CasePrefix)
	}
	for _, err := range policy.Validate(c.Policy.Documents, nil) {
		add("policy.documents", "%v", err)
	}
	for key, v := range map[string]int{"policy.review_days": c.Policy.ReviewDays, "policy.process_days": c.Policy.ProcessDays,
		"policy.expire_days": c.Policy.ExpireDays, "policy.appeal_days": c.Policy.AppealDays, "policy.retention_days": c.Policy.RetentionDays, "policy.author_days": c.Policy.AuthorDays} {
		if v < 1 || v > 3650 {
			add(key, "must be 1-3650, not %d", v)
		}
	}
	for key, v := range map[string]time.Duration{"policy.reminder_before": c.Policy.ReminderBefore, "policy.survey_delay": c.Policy.SurveyDelay,
		"policy.review_after": c.Policy.ReviewAfter, "policy.process_after": c.Policy.ProcessAfter,
		"policy.expire_after": c.Policy.ExpireAfter, "policy.retention_after": c.Policy.RetentionAfter} {
		if v < 0 {
			add(key, "must not be negative, not %s", v)
		}
	}
	if _, err := time.LoadLocation(c.Policy.Calendar.TimeZone); err != nil {
		add("policy.calendar.time_zone", "unknown time zone %q", c.Policy.Calendar.TimeZone)
	}
	days := map[string]bool{"monday": true, "tuesday": true, "wednesday": true, "thursday": true, "friday": true, "saturday": true, "sunday": true}
	for i, d := range c.Policy.Calendar.Weekend {
		if !days[strings.ToLower(d)] {
			add(fmt.Sprintf("policy.calendar.weekend[%d]", i), "not a weekday name: %q", d)
		}
	}
	for name, list := range map[string][]string{"holidays": c.Policy.Calendar.Holidays, "workdays": c.Policy.Calendar.Workdays} {
		for i, d := range list {
			if _, err := time.Parse("2006-01-02", d); err != nil || !datePattern.MatchString(d) {
				add(fmt.Sprintf("policy.calendar.%s[%d]", name, i), "must be YYYY-MM-DD, not %q", d)
			}
		}
	}
	return errors.Join(errs...)
}

// DecodeKey accepts a 32-byte key as 64 hex digits or base64.
func DecodeKey(s string) ([]byte, error) {
	if b, err := hex.DecodeString(s); err == nil && len(b) == 32 {
		return b, nil
	}
	if b, err := base64.StdEncoding.DecodeString(s); err == nil && len(b) == 32 {
		return b, nil
	}
	return nil, errors.New("must be 32 bytes as 64 hex digits or base64")
}

// ParsePaths reads only where the store and the control socket are, leniently, for
// the CLI's readers: `cases list` must work on a machine whose mail settings are
// incomplete (secrets kept in the daemon's environment).
func ParsePaths(b []byte, path string) (*Config, error) {
	var c Config
	if err := yaml.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("%s: yaml: %w", path, err)
	}
	c.ApplyDefaults()
	c.resolvePaths(filepath.Dir(path))
	return &c, nil
}
