#![no_main]
// Body: smqctl::fuzzing::raw_framing (shared with the corpus replay test).
libfuzzer_sys::fuzz_target!(|data: &[u8]| smqctl::fuzzing::raw_framing(data));
