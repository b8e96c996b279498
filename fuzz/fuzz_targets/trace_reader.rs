#![no_main]
// Body: smqctl::fuzzing::trace_reader (shared with the corpus replay test).
libfuzzer_sys::fuzz_target!(|data: &[u8]| smqctl::fuzzing::trace_reader(data));
