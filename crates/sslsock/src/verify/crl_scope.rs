//! Whether a CRL speaks for a certificate (RFC 5280, section 6.3.3): a CRL signed by the
//! right issuer may still cover another part of its certificates (another distribution
//! point, CA certificates only, some reasons only) or be a delta, which is never a base.
//! Such a CRL is no answer for the certificate: not listing it proves nothing.

use der::asn1::ObjectIdentifier;
use der::Decode;
use x509_cert::crl::CertificateList;
use x509_cert::ext::pkix::crl::dp::DistributionPoint;
use x509_cert::ext::pkix::crl::IssuingDistributionPoint;
use x509_cert::ext::pkix::name::DistributionPointName;
use x509_cert::ext::pkix::BasicConstraints;
use x509_cert::Certificate;

const ID_CE_BASIC_CONSTRAINTS: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.19");
const ID_CE_DELTA_CRL_INDICATOR: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.27");
const ID_CE_ISSUING_DISTRIBUTION_POINT: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("2.5.29.28");
const ID_CE_CRL_DISTRIBUTION_POINTS: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.31");

/// How much a CRL of the certificate's issuer says about the certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope {
    /// Every reason: listed means revoked, not listed means not revoked.
    Complete,
    /// Some reasons only (onlySomeReasons): listed means revoked; not listed proves nothing.
    SomeReasons,
}

/// The scope of the CRL `crl_der` for `cert` (the issuer is compared by the caller), or why
/// the CRL does not speak for it.
pub(crate) fn scope(crl_der: &[u8], cert: &Certificate) -> Result<Scope, String> {
    let crl: CertificateList =
        CertificateList::from_der(crl_der).map_err(|e| format!("not a CRL: {e}"))?;
    let crl_exts = crl.tbs_cert_list.crl_extensions.as_deref().unwrap_or(&[]);
    if crl_exts
        .iter()
        .any(|e| e.extn_id == ID_CE_DELTA_CRL_INDICATOR)
    {
        return Err("it is a delta CRL, which is never a base CRL".into());
    }
    let cert_exts = cert
        .tbs_certificate()
        .extensions()
        .map_or(&[][..], |e| e.as_slice());
    let points: Vec<DistributionPoint> = match cert_exts
        .iter()
        .find(|e| e.extn_id == ID_CE_CRL_DISTRIBUTION_POINTS)
    {
        Some(e) => Vec::<DistributionPoint>::from_der(e.extn_value.as_bytes())
            .map_err(|e| format!("the certificate's CRL distribution points are malformed: {e}"))?,
        None => Vec::new(),
    };
    if points.iter().any(|p| p.crl_issuer.is_some()) {
        return Err(
            "the certificate's distribution point names another CRL issuer (indirect CRLs are not supported)"
                .into(),
        );
    }
    let Some(idp) = crl_exts
        .iter()
        .find(|e| e.extn_id == ID_CE_ISSUING_DISTRIBUTION_POINT)
    else {
        return Ok(Scope::Complete);
    };
    let idp = IssuingDistributionPoint::from_der(idp.extn_value.as_bytes())
        .map_err(|e| format!("its issuing distribution point is malformed: {e}"))?;
    if idp.indirect_crl {
        return Err("it is an indirect CRL, which is not supported".into());
    }
    if idp.only_contains_attribute_certs {
        return Err("it covers attribute certificates only".into());
    }
    let is_ca = cert_exts
        .iter()
        .find(|e| e.extn_id == ID_CE_BASIC_CONSTRAINTS)
        .and_then(|e| BasicConstraints::from_der(e.extn_value.as_bytes()).ok())
        .is_some_and(|b| b.ca);
    if idp.only_contains_ca_certs && !is_ca {
        return Err("it covers CA certificates only (an authority revocation list)".into());
    }
    if idp.only_contains_user_certs && is_ca {
        return Err("it covers end-entity certificates only".into());
    }
    if let Some(idp_name) = &idp.distribution_point {
        let DistributionPointName::FullName(idp_names) = idp_name else {
            return Err(
                "its distribution point is named relative to the issuer, which is not supported"
                    .into(),
            );
        };
        let matches = points.iter().any(|p| match &p.distribution_point {
            Some(DistributionPointName::FullName(names)) => {
                names.iter().any(|n| idp_names.contains(n))
            }
            _ => false,
        });
        if !matches {
            return Err(
                "its issuing distribution point is not one of the certificate's distribution points"
                    .into(),
            );
        }
    }
    Ok(match idp.only_some_reasons {
        Some(_) => Scope::SomeReasons,
        None => Scope::Complete,
    })
}
