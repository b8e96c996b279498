#![no_main]
// Body: smqctl::fuzzing::http_head (shared with the corpus replay test).
libfuzzer_sys::fuzz_target!(|data: &[u8]| smqctl::fuzzing::http_head(data));
