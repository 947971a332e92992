//! The direct JSON reader of the Dash checks against the serde_json one it
//! stands in for: both must accept exactly the same documents, with the
//! same tape and the same encoding of it.
#![no_main]

use dash_auth_core::dash::fuzzing::json_differential;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(why) = json_differential(data) {
        panic!("{why}");
    }
});
