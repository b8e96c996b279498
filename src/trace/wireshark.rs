//! The SMQ dissector for Wireshark and tshark (`wireshark.lua`, embedded at
//! build time). `smqctl hook wireshark` writes it out, with the TCP port of
//! `--port` filled in; tests/wireshark.rs runs it under real tshark on
//! captures of smqctl sessions and of the real broker's transcript.
//!
//! Kept beside the Mako hook: both are Lua text shipped in the binary.
//! May import: nothing (plain text).

/// The Lua dissector, as shipped (no port: heuristics and Decode As only).
pub const DISSECTOR: &str = include_str!("wireshark.lua");

/// The line of [`DISSECTOR`] that `--port` rewrites.
const PORT_LINE: &str = "local SMQ_PORT = 0 --";

/// The dissector, registered on TCP port `port` too when one is given.
pub fn dissector(port: Option<u16>) -> String {
    match port {
        Some(p) => DISSECTOR.replacen(PORT_LINE, &format!("local SMQ_PORT = {p} --"), 1),
        None => DISSECTOR.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_goes_into_the_one_port_line() {
        assert_eq!(DISSECTOR.matches(PORT_LINE).count(), 1);
        let with = dissector(Some(8080));
        assert!(
            with.contains("local SMQ_PORT = 8080 --"),
            "port line not rewritten"
        );
        assert!(!with.contains(PORT_LINE));
        assert_eq!(with.len(), DISSECTOR.len() + 3);
        assert_eq!(dissector(None), DISSECTOR);
    }
}
