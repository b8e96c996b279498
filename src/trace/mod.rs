//! Trace events (placeholder: being written).
