#![no_main]
// Body: smqctl::fuzzing::template (shared with the corpus replay test).
libfuzzer_sys::fuzz_target!(|data: &[u8]| smqctl::fuzzing::template(data));
