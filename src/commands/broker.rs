//! `smqctl broker`: run the embedded broker until Ctrl-C (placeholder).
use anyhow::Result;
use crate::cli::{BrokerArgs, GlobalArgs};
pub async fn run(_args: BrokerArgs, _global: &GlobalArgs) -> Result<u8> {
    anyhow::bail!("not yet")
}
