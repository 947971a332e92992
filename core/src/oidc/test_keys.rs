//! Test keys, generated once with `openssl genrsa -traditional 2048`,
//! `openssl ecparam -name prime256v1 -genkey` (then `pkcs8 -topk8`) and
//! `openssl genrsa 1024`. They sign nothing outside these tests.

/// The RSA 2048 private key, PKCS#1 DER in base64 (what `EncodingKey::from_rsa_der` takes).
pub const RSA_DER: &str = concat!(
    "MIIEowIBAAKCAQEAzZK9M/dzVPkv/wMQDRXuhnIRwn1eJNm9oodnAnvlS0emz4iIkkC9igJKdsGQ",
    "1p9Sk53+NzxZnaW61/u4eYUsyGh/EFGHImJBhNp5LH0mYGPTmBDbYK6qzuxLvbycX9yiSLu8XVXC",
    "6owJLIdIt7Bk6LHZqrZyjCGBtsa78T7TBuqK9WlIbjzl8LeH55EHygs0PSB4ggzjv1EWUGlDBa7L",
    "G9s1/pMys6P/tVg0aoKLeHBtWqapOxBTT4rrX8DnN85l8dZyGefCrRjgvirgs9xQcJrI9ibGWX7I",
    "tmDfox8NYn7Kq47bzYxvBYMTqRxFC7z241Oc94cFMhZAieulIjM3awIDAQABAoIBABeLYOQcyTbI",
    "O3kHjsUQ5/q6AdK2rRunXJLK0z9zlTVkBXTrfEjT5WFzFbg4PzB1mu2RQNZusQzfOGEYUW6JlDF3",
    "1mW2ELYdbseahhpUUxrjFA7sj1OpbaK5aYtXmMlZ6bRO3CoMcoCOfVZ+QBPZvhTwma91qfTmuYaH",
    "iGr++Qhni9W6ZgLFL2oljSYrJ9t4Y/PiATjg/x2LPZoCkee5lJE5/19wH/g8scHRMURxOYV8T4f3",
    "RokXFTpknK9OXhoCeoI9kRMJ60kLZtzi+cJ29Tlt6mug1FGoToLMOalpPCXrig0FTf0Wl0iKJMzX",
    "JBJVXrmjnYCih7bs8XiQsQMjMwECgYEA8nKyvUqEX8lixaE6ECXcaOO23AhFhv8wkxstSyHGWOXP",
    "Pr0PrAZFrwe8q0jnkntRN+Bvx0hsbnO4GKg7CJ5Q5rhY4f52rB3EBrBXc8i5JCaNMBVdWsPqWtTj",
    "1Cy9uGCSNbXjpWzYShUGTeyPdgDuXHzh+Dlt8JSg1ctAuQDNk8ECgYEA2RBhslJWStT3VROl0dSa",
    "3KpzMQLyIakPJchuG2swrDtqjjqBS5fb5NFABrjiDQTV6hf2IdmekAVNS5dtZs5nLIbonG7UzZu4",
    "/YOzr07WyTtqtjmOayiON1d4ZAOd62A0NKAEMdzDAHm/6masSqkUAcZ5ld0iJAywrgTIvtfs5isC",
    "gYEAmAbyK545aXL3e6OArDWBg0gfFtQc/OyyAdyNx0nzfTUFgnq9BAqe0YVRejpp80FeiWIz1UuF",
    "qrDnZJbBBcN4SWSZX4TX10+G5wbWn6Ti61c9O0R6WHr3TmOmRRqVELOFmyZmDAo3iiSq4lwPDVjC",
    "Hr60V5lzZeNdAxLDj/5/6kECgYAAn2doV4wf0tSSzeef3nhDQcnqzhNbvVxpw1VthrUxCUqY9doB",
    "GYJr+Z2xZz5ewzDJ5x+xoSovR5SdLuYFcXoiSpDIQhkiLdwt/f659gPvt9fqhee+rvMZfYq+3rPJ",
    "RRFhRUQ90GBO1AqU5Y6A+FMyXhtjLqs2Z0LqfOEGiyAG2QKBgDHQdqu4VEi1E4VFPbPZ+VrMR0YA",
    "v8S/N4cA7/5LOf/j5aevELGoakDpzHv9JUUoQFo92S9e7BCxtIKGh4lxikQNhwOY+CjAv7VErsli",
    "iH2wWJ2PyzAqABh8Ktf9hWnRa5o0Q1JV296ZPwRTCTr9CdWJhFEAqnsYkPBDVvs2eD6e",
);

/// Its modulus, base64url as in a JWK (`e` is `AQAB`).
pub const RSA_N: &str = concat!(
    "zZK9M_dzVPkv_wMQDRXuhnIRwn1eJNm9oodnAnvlS0emz4iIkkC9igJKdsGQ1p9Sk53-NzxZnaW6",
    "1_u4eYUsyGh_EFGHImJBhNp5LH0mYGPTmBDbYK6qzuxLvbycX9yiSLu8XVXC6owJLIdIt7Bk6LHZ",
    "qrZyjCGBtsa78T7TBuqK9WlIbjzl8LeH55EHygs0PSB4ggzjv1EWUGlDBa7LG9s1_pMys6P_tVg0",
    "aoKLeHBtWqapOxBTT4rrX8DnN85l8dZyGefCrRjgvirgs9xQcJrI9ibGWX7ItmDfox8NYn7Kq47b",
    "zYxvBYMTqRxFC7z241Oc94cFMhZAieulIjM3aw",
);

/// Its public key as PEM, the HMAC secret of a key-confusion forgery.
pub const RSA_PUBLIC_PEM: &str = concat!(
    "-----BEGIN PUBLIC KEY-----\n",
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAzZK9M/dzVPkv/wMQDRXu\n",
    "hnIRwn1eJNm9oodnAnvlS0emz4iIkkC9igJKdsGQ1p9Sk53+NzxZnaW61/u4eYUs\n",
    "yGh/EFGHImJBhNp5LH0mYGPTmBDbYK6qzuxLvbycX9yiSLu8XVXC6owJLIdIt7Bk\n",
    "6LHZqrZyjCGBtsa78T7TBuqK9WlIbjzl8LeH55EHygs0PSB4ggzjv1EWUGlDBa7L\n",
    "G9s1/pMys6P/tVg0aoKLeHBtWqapOxBTT4rrX8DnN85l8dZyGefCrRjgvirgs9xQ\n",
    "cJrI9ibGWX7ItmDfox8NYn7Kq47bzYxvBYMTqRxFC7z241Oc94cFMhZAieulIjM3\n",
    "awIDAQAB\n",
    "-----END PUBLIC KEY-----\n",
);

/// The modulus of an RSA 1024 key, too small to be trusted.
pub const SMALL_N: &str = concat!(
    "3KuMO0Rz5hF-XtLF1-W_41SrQoLmnB9CxYNkHuA1bEe3YWrA-6IArPYesDBvBrDLYpXObS8hP6kP",
    "sdUPaUcVuiweEWM-WWgWyZd2u0uKcVaXulGYrONIiBNg_7_rxU2fisNDy58v9hmbaNAjLbCS5GpE",
    "g7-GxeQuBtLrfGf5Il8",
);

/// The P-256 private key, PKCS#8 DER in base64 (what `EncodingKey::from_ec_der` takes).
pub const EC_DER: &str = concat!(
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgkq3vLhrB93r1/KaCXy4NoHjnRz1V",
    "0PBnc0XSjUsFX0yhRANCAAS266MNHPt0Jfgv05sDjG0I/KFWXp+70WgxMBTdvWTpCLjYwq+yZUi3",
    "1NLqs9ADDpARYibnjXAnfUMBkyP8EnkF",
);

/// Its public point's x, base64url.
pub const EC_X: &str = "tuujDRz7dCX4L9ObA4xtCPyhVl6fu9FoMTAU3b1k6Qg";

/// Its public point's y, base64url.
pub const EC_Y: &str = "uNjCr7JlSLfU0uqz0AMOkBFiJueNcCd9QwGTI_wSeQU";
