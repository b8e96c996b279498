//! Embedded SMQ broker (placeholder: being written).
