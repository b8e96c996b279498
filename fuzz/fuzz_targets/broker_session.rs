#![no_main]
// Body: smqctl::fuzzing::broker_session (shared with the corpus replay test).
libfuzzer_sys::fuzz_target!(|data: &[u8]| smqctl::fuzzing::broker_session(data));
