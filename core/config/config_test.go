package config

import "testing"

func TestEnvPluginSectionIsTyped(t *testing.T) {
	cfg, err := Load(LoadOptions{Env: []string{
		"CLOUDPHONE_PLUGINS__CONFIG__DEVICE-SIM__COUNT=8",
		"CLOUDPHONE_PLUGINS__CONFIG__DEVICE-SIM__AUTH=true",
		"CLOUDPHONE_PLUGINS__CONFIG__DEVICE-SIM__LISTEN=127.0.0.1:0",
		"CLOUDPHONE_PLUGINS__CONFIG__DEVICE-SIM__MODEL=007",
		"CLOUDPHONE_PLUGINS__CONFIG__DEVICE-SIM__SCALE=1.5",
	}})
	if err != nil {
		t.Fatal(err)
	}
	got := string(cfg.PluginConfigJSON("device-sim"))
	want := `{"auth":true,"count":8,"listen":"127.0.0.1:0","model":"007","scale":1.5}`
	if got != want {
		t.Fatalf("got %s want %s", got, want)
	}
}
