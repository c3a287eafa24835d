package cloudphonev1

// The contract version this package was generated from. A compatible
// addition bumps ContractMinor; a breaking change bumps ContractMajor, and the
// host refuses plugins built for another major version.
const (
	ContractMajor = uint32(ContractVersion_CONTRACT_MAJOR)
	ContractMinor = uint32(0)
)
