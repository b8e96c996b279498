#![no_main]
// Body: smqctl::fuzzing::packet_decode (shared with the corpus replay test).
libfuzzer_sys::fuzz_target!(|data: &[u8]| smqctl::fuzzing::packet_decode(data));
