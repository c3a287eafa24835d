package config

import "time"

// TLSConfig is api.tls: HTTPS when both files are set.
type TLSConfig struct {
	// CertFile and KeyFile are PEM files; both empty serve plain HTTP.
	CertFile string `koanf:"cert_file"`
	KeyFile  string `koanf:"key_file"`
}

// AuthConfig is api.auth.
type AuthConfig struct {
	// Disabled turns authentication off: every request is an admin of
	// tenant "default". Only for a laptop; the server warns at start.
	Disabled bool `koanf:"disabled"`
	// TokenTTL is the lifetime of tokens the server issues (device
	// registration) and the default of `cloudphone token create`.
	TokenTTL time.Duration `koanf:"token_ttl"`
	// RegistrationSecret, when set, lets a device agent register with it
	// (POST /api/v1/devices/register) instead of an operator credential.
	// Prefer CLOUDPHONE_API__AUTH__REGISTRATION_SECRET to the file.
	RegistrationSecret string `koanf:"registration_secret"`
}

// TelemetryConfig is the telemetry section.
type TelemetryConfig struct {
	// OTLPEndpoint, when set, exports traces of task steps over OTLP/HTTP
	// to this URL (e.g. "http://127.0.0.1:4318").
	OTLPEndpoint string `koanf:"otlp_endpoint"`
}

func (s *TLSConfig) validate(v *checker) {
	if (s.CertFile == "") != (s.KeyFile == "") {
		v.add("api.tls", "cert_file and key_file must be set together (or both left empty for plain HTTP)")
	}
}

func (s *AuthConfig) validate(v *checker) {
	v.durationBetween("api.auth.token_ttl", s.TokenTTL, time.Second, 10*365*24*time.Hour)
	if n := len(s.RegistrationSecret); n > 0 && n < 16 {
		v.add("api.auth.registration_secret", "must be empty or at least 16 characters, got %d", n)
	}
}

func (s *TelemetryConfig) validate(v *checker) {
	if s.OTLPEndpoint != "" {
		v.url("telemetry.otlp_endpoint", s.OTLPEndpoint)
	}
}
