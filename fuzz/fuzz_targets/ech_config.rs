//! ECH configuration lists from arbitrary bytes and text: refused with a reason, never a
//! panic; what parses keeps its wire form.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sslsock::ech::EchConfigList;

fuzz_target!(|data: &[u8]| {
    if let Ok(list) = EchConfigList::from_bytes(data.to_vec()) {
        assert_eq!(list.as_bytes(), data);
        assert!(!list.public_names().is_empty());
        assert_eq!(EchConfigList::from_base64(&list.to_base64()).as_ref(), Ok(&list));
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = EchConfigList::from_base64(text);
    }
});
