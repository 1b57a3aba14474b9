//! What a caught panic said: the one place the driver turns a panic payload into text.

use std::any::Any;

/// The message of a panic payload (`panic!` with a literal or a formatted message), or
/// `unknown panic` for any other payload.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|message| message.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_string())
}
