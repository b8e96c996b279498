#![no_main]
// Body: smqctl::fuzzing::config_toml (shared with the corpus replay test).
libfuzzer_sys::fuzz_target!(|data: &[u8]| smqctl::fuzzing::config_toml(data));
