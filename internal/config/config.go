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

	"github.com/complaintd/complaintd/internal/cases"
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
	Routing   Routing   `yaml:"routing"`
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
	CasePrefix string `yaml:"case_prefix"` // TS
	// DocumentKinds are the admins' own document kinds, added to the built-in ones
	// of SPEC §2 (code, labels, file-name keywords, 补充 synonyms, sensitivity).
	DocumentKinds []cases.KindInfo      `yaml:"document_kinds"` // none
	Documents     []policy.DocumentRule `yaml:"documents"`      // default: SPEC §2
	ReviewDays    int                   `yaml:"review_days"`    // 3 business days
	ProcessDays   int                   `yaml:"process_days"`   // 5 business days
	ExpireDays    int                   `yaml:"expire_days"`    // 15 calendar days
	AppealDays    int                   `yaml:"appeal_days"`    // 15 calendar days
	// SensitiveKinds are the document kinds erased RetentionDays after a case ends
	// (PIPL); they are encrypted under their own per-case key for that reason.
	// Unset: the kinds the catalogue marks sensitive, and unclassified files.
	SensitiveKinds []cases.Kind `yaml:"sensitive_kinds"` // [application_form, id_card, business_license, power_of_attorney, unclassified]
	RetentionDays  int          `yaml:"retention_days"`  // 180
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
	Listen        string `yaml:"listen"`         // e.g. 127.0.0.1:8025; empty or absent: no HTTP server
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
		if cat, err := cases.NewCatalogue(p.DocumentKinds); err == nil { // errors: reported by Validate
			for _, k := range cat.Kinds() {
				if k.Sensitive {
					p.SensitiveKinds = append(p.SensitiveKinds, k.Code)
				}
			}
			p.SensitiveKinds = append(p.SensitiveKinds, cases.Unclassified)
		}
	}
	defI(&p.RetentionDays, 180)
	defI(&p.AuthorDays, 7)
	def(&p.Calendar.TimeZone, "Asia/Shanghai")
	defD(&p.ReminderBefore, 24*time.Hour)
	defD(&p.SurveyDelay, 24*time.Hour)
	if len(p.Calendar.Weekend) == 0 {
		p.Calendar.Weekend = []string{"saturday", "sunday"}
	}

	c.Routing.applyDefaults(c.Staff.Supervisors, c.Policy.ReviewDays, c.Policy.ProcessDays)

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
	cat, err := c.Catalogue()
	if err != nil {
		for _, e := range unjoin(err) {
			add("policy.document_kinds", "%v", e)
		}
	}
	for _, err := range policy.Validate(c.Policy.Documents, cat) {
		add("policy.documents", "%v", err)
	}
	for _, k := range c.Policy.SensitiveKinds {
		if k != cases.Unclassified && cat != nil && !cat.Known(k) {
			add("policy.sensitive_kinds", "unknown document kind %q", k)
		}
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
	errs = append(errs, c.validateRouting()...)
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

// Routing sends each case to the department (desk) that owns its channel and decides
// its severity (一般投诉 / 重大投诉). The decisions themselves live in internal/routing;
// this is their data. An empty Departments list means no routing: every case goes to
// staff.notify as before.
type Routing struct {
	// Departments in the order reports list them. A channel, host or alias belongs to
	// at most one department.
	Departments []Department `yaml:"departments"`
	// DefaultDepartment gets every case whose channel is unknown; required when
	// Departments is not empty, and must name one of them.
	DefaultDepartment string `yaml:"default_department"`
	// Domains are the portal's own domains: path_prefixes are matched only on hosts
	// within them (a /c/ path on another site means nothing). Empty: any host.
	Domains []string `yaml:"domains"`
	// Leadership is told at once about every major case.
	Leadership []string `yaml:"leadership"` // default: staff.supervisors
	Severity   Severity `yaml:"severity"`
}

// Department is one desk: the channels it owns and the people who work it.
type Department struct {
	Name     string   `yaml:"name"`     // unique; shown to staff and in reports
	Channels []string `yaml:"channels"` // channel names as subjects write them (凤凰财经, 财经)
	// Hosts own every link on them and on their subdomains (finance.ifeng.com also
	// owns m.finance.ifeng.com). A host decides over the subject's channel.
	Hosts []string `yaml:"hosts"`
	// PathPrefixes ("/c/") claim links on hosts no department owns, within Domains;
	// weaker than a host or the subject's channel.
	PathPrefixes []string          `yaml:"path_prefixes"`
	Staff        []string          `yaml:"staff"`   // notified about the department's cases; empty: staff.notify
	Aliases      map[string]string `yaml:"aliases"` // short names usable in 转交 / assign → address
}

// Severity holds the rules that make a case major, and what a major case gets.
type Severity struct {
	// Rules are tried in order; every match is recorded as a reason. Default:
	// DefaultSeverityRules(). An explicit empty list disables pattern rules.
	Rules []SeverityRule `yaml:"rules"`
	// A case is major when RepeatThreshold or more earlier cases about the same
	// (normalised) link, or from the same applicant, arrived within RepeatWindowDays.
	RepeatWindowDays int `yaml:"repeat_window_days"` // 30
	RepeatThreshold  int `yaml:"repeat_threshold"`   // 2
	// The shorter deadlines of a major case (business days).
	MajorReviewDays  int `yaml:"major_review_days"`  // 1 (at most policy.review_days)
	MajorProcessDays int `yaml:"major_process_days"` // 2 (at most policy.process_days)
}

// SeverityRule is one pattern that sets a level when it matches one of Fields.
type SeverityRule struct {
	Name string `yaml:"name"` // unique; appears in the reasons
	// Pattern is an RE2 regular expression, Keywords plain substrings; either or
	// both. Matching is case-insensitive, after full-width letters and digits are folded.
	Pattern  string   `yaml:"pattern"`
	Keywords []string `yaml:"keywords"`
	// Exclude (RE2) discards a match that lies wholly inside one of its matches:
	// 法院路 (a street) hides 法院, 未起诉 hides 起诉.
	Exclude string `yaml:"exclude"`
	// Fields are where to look: subject, body, attachments (file names),
	// applicant_org (the applicant's and the principal's organisation), applicant_email.
	Fields []string `yaml:"fields"` // default [subject, body, attachments]
	Level  string   `yaml:"level"`  // major | ordinary; default major
}

// severityFields are the texts a severity rule may look at.
var severityFields = map[string]bool{"subject": true, "body": true, "attachments": true, "applicant_org": true, "applicant_email": true}

// DefaultSeverityRules are the shipped rules (issue 7), as config.example.yaml spells
// them. Each pattern's traps are tested in internal/routing.
func DefaultSeverityRules() []SeverityRule {
	text := []string{"subject", "body", "attachments"}
	return []SeverityRule{
		{Name: "lawyer_letter", Pattern: `律[师師]函|lawyer'?s letter|cease and desist`, Fields: text, Level: "major"},
		{Name: "litigation", Pattern: `起[诉訴]|[诉訴][讼訟]|lawsuit|litigation|\bsue\b`,
			Exclude: `(未|不|没有|沒有|没|沒|尚未|无意|無意|无需|無需|不会|不會|不打算|暂不|暫不)(提起)?(起[诉訴]|[诉訴][讼訟])`, Fields: text, Level: "major"},
		// A court judgement or a police receipt sent as proof of the reason (SPEC §2's
		// reason_proof: 判决书, 报警回执) is the ordinary way to prove a claim, not a sign of
		// a serious case: court and police words count in the subject and body only, and
		// not where they name such a document.
		{Name: "court", Pattern: `法院|判[决決]|裁定[书書]|\bcourt\b|judge?ment`,
			Exclude: `法院[东西南北中東]?(大街|路|街|巷|胡同)|[评評]判[决決]|(法院)?(判[决決]|裁定)[书書]`, Fields: []string{"subject", "body"}, Level: "major"},
		{Name: "police", Pattern: `公安|[报報][警案]|警方|派出所|\bpolice\b`, Exclude: `[办辦]公安|(派出所|公安局?)?[报報][警案]回[执執]|受案回[执執]`,
			Fields: []string{"subject", "body"}, Level: "major"},
		{Name: "cyberspace_admin", Pattern: `网信|網信|国家互联网信息办公室|國家互聯網信息辦公室|12377|cyberspace administration`,
			Exclude: `[联聯][网網][信]|\d12377|12377\d`, Fields: text, Level: "major"},
		{Name: "minor", Pattern: `未成年|未[满滿](十八|18|十六|16|十四|14)周?[岁歲]|[小中][学學]生|初中生|高中生|幼女|underage|\bminors\b|\bminor (child|children|girl|boy)`, Fields: text, Level: "major"},
		{Name: "government_applicant",
			Pattern: `(局|委员会|委員會|人民政府|政府办公室|政府辦公室|国务院|國務院|厅|廳|检察院|檢察院|法院|街道办事处|街道辦事處|管委会|管委會)$|\.gov\.cn$`,
			Exclude: `[书書邮郵棋饭飯]局$|[餐歌舞展大客]厅$|[餐歌舞展大客]廳$`, Fields: []string{"applicant_org", "applicant_email"}, Level: "major"},
		{Name: "media_exposure", Pattern: `曝光|[记記]者|[向找]媒[体體]|[联聯][系繫]媒[体體]|央[视視]|焦点访谈|焦點訪談|journalist|reporter`,
			Exclude: `(?m)^[ \t]*(标题|標題|文章标题|稿件标题|稿件名称|作者|来源|來源|作者/来源|链接|鏈接|原文链接|文章链接|title|author|source|link)[ \t]*[:：].*$|(本报|本報|本台|本刊|本网|本網|特约|特約|实习|實習)[记記]者|曝光率`,
			Fields:  text, Level: "major"},
	}
}

func (r *Routing) applyDefaults(supervisors []string, reviewDays, processDays int) {
	if len(r.Leadership) == 0 {
		r.Leadership = supervisors
	}
	s := &r.Severity
	if s.Rules == nil {
		s.Rules = DefaultSeverityRules()
	}
	for i := range s.Rules {
		if len(s.Rules[i].Fields) == 0 {
			s.Rules[i].Fields = []string{"subject", "body", "attachments"}
		}
		if s.Rules[i].Level == "" {
			s.Rules[i].Level = "major"
		}
	}
	if s.RepeatWindowDays == 0 {
		s.RepeatWindowDays = 30
	}
	if s.RepeatThreshold == 0 {
		s.RepeatThreshold = 2
	}
	// A major case is never slower than an ordinary one, even under short policy deadlines.
	if s.MajorReviewDays == 0 {
		s.MajorReviewDays = min(1, reviewDays)
	}
	if s.MajorProcessDays == 0 {
		s.MajorProcessDays = min(2, processDays)
	}
}

var hostPattern = regexp.MustCompile(`^[\p{L}\p{N}]([\p{L}\p{N}-]*[\p{L}\p{N}])?(\.[\p{L}\p{N}]([\p{L}\p{N}-]*[\p{L}\p{N}])?)+$`)

// validateRouting checks the routing section; the exact-name clashes are found here,
// the finer ones (channel names that differ only by 凤凰/频道) by routing.New.
func (c *Config) validateRouting() []error {
	var errs []error
	add := func(key, format string, a ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, a...)))
	}
	r := &c.Routing
	isStaff := map[string]bool{}
	for _, a := range c.Staff.Addresses {
		if p, err := mail.ParseAddress(a); err == nil {
			isStaff[strings.ToLower(p.Address)] = true
		}
	}
	names := map[string]int{}
	channels := map[string]string{}
	hosts := map[string]string{}
	aliases := map[string]string{}
	for k, a := range c.Staff.Aliases {
		aliases[k] = strings.ToLower(a)
	}
	for i, d := range r.Departments {
		key := fmt.Sprintf("routing.departments[%d]", i)
		if strings.TrimSpace(d.Name) == "" {
			add(key+".name", "required")
		} else if j, dup := names[d.Name]; dup {
			add(key+".name", "%q is also routing.departments[%d]", d.Name, j)
		} else {
			names[d.Name] = i
		}
		if len(d.Channels) == 0 && len(d.Hosts) == 0 && len(d.PathPrefixes) == 0 && d.Name != r.DefaultDepartment {
			add(key, "owns no channel, host or path prefix (only the default department may)")
		}
		for j, ch := range d.Channels {
			k := strings.ToLower(strings.TrimSpace(ch))
			if k == "" {
				add(fmt.Sprintf("%s.channels[%d]", key, j), "empty channel name")
			} else if other, dup := channels[k]; dup && other != d.Name {
				add(fmt.Sprintf("%s.channels[%d]", key, j), "%q is also owned by department %q", ch, other)
			} else {
				channels[k] = d.Name
			}
		}
		for j, h := range d.Hosts {
			k := strings.ToLower(strings.TrimSpace(h))
			if !hostPattern.MatchString(k) {
				add(fmt.Sprintf("%s.hosts[%d]", key, j), "must be a host name like finance.ifeng.com (no scheme, port or path), not %q", h)
			} else if other, dup := hosts[k]; dup && other != d.Name {
				add(fmt.Sprintf("%s.hosts[%d]", key, j), "%q is also owned by department %q", h, other)
			} else {
				hosts[k] = d.Name
			}
		}
		for j, p := range d.PathPrefixes {
			if !strings.HasPrefix(p, "/") || strings.ContainsAny(p, "?# ") {
				add(fmt.Sprintf("%s.path_prefixes[%d]", key, j), "must be a URL path starting with /, not %q", p)
			}
		}
		for j, a := range d.Staff {
			p, err := mail.ParseAddress(a)
			switch {
			case err != nil:
				add(fmt.Sprintf("%s.staff[%d]", key, j), "not an e-mail address: %q", a)
			case !isStaff[strings.ToLower(p.Address)]:
				add(fmt.Sprintf("%s.staff[%d]", key, j), "%s is not in staff.addresses (notified, but could not send commands)", a)
			}
		}
		for k, a := range d.Aliases {
			p, err := mail.ParseAddress(a)
			switch {
			case err != nil:
				add(fmt.Sprintf("%s.aliases.%s", key, k), "not an e-mail address: %q", a)
			case !isStaff[strings.ToLower(p.Address)]:
				add(fmt.Sprintf("%s.aliases.%s", key, k), "%s is not in staff.addresses", a)
			case aliases[k] != "" && aliases[k] != strings.ToLower(p.Address):
				add(fmt.Sprintf("%s.aliases.%s", key, k), "alias %q already means %s (staff.aliases or another department)", k, aliases[k])
			default:
				aliases[k] = strings.ToLower(p.Address)
			}
		}
	}
	if len(r.Departments) > 0 {
		if r.DefaultDepartment == "" {
			add("routing.default_department", "required when departments are configured")
		} else if _, ok := names[r.DefaultDepartment]; !ok {
			add("routing.default_department", "%q is not one of routing.departments", r.DefaultDepartment)
		}
	} else if r.DefaultDepartment != "" {
		add("routing.default_department", "%q names a department, but routing.departments is empty", r.DefaultDepartment)
	}
	for i, d := range r.Domains {
		if !hostPattern.MatchString(strings.ToLower(strings.TrimSpace(d))) {
			add(fmt.Sprintf("routing.domains[%d]", i), "must be a domain like ifeng.com, not %q", d)
		}
	}
	for i, a := range r.Leadership {
		if _, err := mail.ParseAddress(a); err != nil {
			add(fmt.Sprintf("routing.leadership[%d]", i), "not an e-mail address: %q", a)
		}
	}
	s := &r.Severity
	rules := map[string]int{}
	for i, rule := range s.Rules {
		key := fmt.Sprintf("routing.severity.rules[%d]", i)
		if rule.Name == "" {
			add(key+".name", "required")
		} else if j, dup := rules[rule.Name]; dup {
			add(key+".name", "%q is also routing.severity.rules[%d]", rule.Name, j)
		} else {
			rules[rule.Name] = i
		}
		if rule.Pattern == "" && len(rule.Keywords) == 0 {
			add(key, "needs a pattern or keywords")
		}
		if rule.Pattern != "" {
			if _, err := regexp.Compile(rule.Pattern); err != nil {
				add(key+".pattern", "not a regular expression (RE2): %v", err)
			}
		}
		if rule.Exclude != "" {
			if _, err := regexp.Compile(rule.Exclude); err != nil {
				add(key+".exclude", "not a regular expression (RE2): %v", err)
			}
		}
		for j, k := range rule.Keywords {
			if strings.TrimSpace(k) == "" {
				add(fmt.Sprintf("%s.keywords[%d]", key, j), "empty keyword")
			}
		}
		for j, f := range rule.Fields {
			if !severityFields[f] {
				add(fmt.Sprintf("%s.fields[%d]", key, j), "must be subject, body, attachments, applicant_org or applicant_email, not %q", f)
			}
		}
		if rule.Level != "major" && rule.Level != "ordinary" {
			add(key+".level", "must be major or ordinary, not %q", rule.Level)
		}
	}
	if s.RepeatWindowDays < 1 || s.RepeatWindowDays > 3650 {
		add("routing.severity.repeat_window_days", "must be 1-3650, not %d", s.RepeatWindowDays)
	}
	if s.RepeatThreshold < 1 {
		add("routing.severity.repeat_threshold", "must be at least 1, not %d", s.RepeatThreshold)
	}
	if s.MajorReviewDays < 1 || s.MajorReviewDays > c.Policy.ReviewDays {
		add("routing.severity.major_review_days", "must be 1-%d (policy.review_days: a major case is not slower), not %d", c.Policy.ReviewDays, s.MajorReviewDays)
	}
	if s.MajorProcessDays < 1 || s.MajorProcessDays > c.Policy.ProcessDays {
		add("routing.severity.major_process_days", "must be 1-%d (policy.process_days: a major case is not slower), not %d", c.Policy.ProcessDays, s.MajorProcessDays)
	}
	return errs
}

// Catalogue is the document kinds the desk knows: the built-in ones and
// policy.document_kinds.
func (c *Config) Catalogue() (*cases.Catalogue, error) {
	return cases.NewCatalogue(c.Policy.DocumentKinds)
}

// unjoin splits an errors.Join result into its errors.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
