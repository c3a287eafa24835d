package cloudphonev1

// The contract version this package was generated from. A compatible
// addition bumps ContractMinor; a breaking change bumps ContractMajor, and the
// host refuses plugins built for another major version.
//
// Minor versions: 1.1 added LoadRequest.ring_path, LoadResponse.ring_attached
// and RingReply (model plugins may consume a shared-memory command ring).
const (
	ContractMajor = uint32(ContractVersion_CONTRACT_MAJOR)
	ContractMinor = uint32(1)
)
