import PuenteCore
import PuenteReintegration
import PuenteServices

/// How the reintegration codes read on the case screens, in Spanish and English. Every code has both:
/// the switches are exhaustive, so a new code cannot ship without its names.
enum CaseLabels {
    static func status(_ s: CaseStatus) -> Bilingual {
        switch s {
        case .registered: Bilingual("Registrado", "Registered")
        case .screened: Bilingual("Tamizado", "Screened")
        case .assessed: Bilingual("Evaluado", "Assessed")
        case .planDrafted: Bilingual("Plan en borrador", "Plan drafted")
        case .planApproved: Bilingual("Plan aprobado", "Plan approved")
        case .inAssistance: Bilingual("En asistencia", "In assistance")
        case .followUp: Bilingual("En seguimiento", "Follow-up")
        case .closed: Bilingual("Cerrado", "Closed")
        }
    }

    static func closure(_ r: ClosureReason) -> Bilingual {
        switch r {
        case .reintegrated: Bilingual("Reintegrado/a", "Reintegrated")
        case .remigrated: Bilingual("Volvió a migrar", "Re-migrated")
        case .lostContact: Bilingual("Contacto perdido", "Lost contact")
        case .declined: Bilingual("Rechazó la asistencia", "Declined")
        case .transferred: Bilingual("Transferido/a", "Transferred")
        case .deceased: Bilingual("Fallecido/a", "Deceased")
        }
    }

    static func vulnerability(_ v: Vulnerability) -> Bilingual {
        switch v {
        case .unaccompaniedChild: Bilingual("Niña o niño no acompañado", "Unaccompanied child")
        case .separatedChild: Bilingual("Niña o niño separado", "Separated child")
        case .health: Bilingual("Salud", "Health")
        case .mentalHealth: Bilingual("Salud mental", "Mental health")
        case .disability: Bilingual("Discapacidad", "Disability")
        case .protection: Bilingual("Necesidad de protección", "Protection need")
        case .trafficking: Bilingual("Trata de personas", "Trafficking")
        case .genderBasedViolence: Bilingual("Violencia de género", "Gender-based violence")
        case .pregnancy: Bilingual("Embarazo", "Pregnancy")
        case .olderPerson: Bilingual("Persona mayor", "Older person")
        }
    }

    static func service(_ s: ServiceKind) -> Bilingual {
        switch s {
        case .psychosocial: Bilingual("Apoyo psicosocial", "Psychosocial support")
        case .health: Bilingual("Salud", "Health")
        case .legal: Bilingual("Asistencia legal", "Legal aid")
        case .documents: Bilingual("Documentos", "Documents")
        case .shelter: Bilingual("Albergue", "Shelter")
        case .education: Bilingual("Educación", "Education")
        case .vocationalTraining: Bilingual("Formación profesional", "Vocational training")
        case .jobPlacement: Bilingual("Colocación laboral", "Job placement")
        case .businessDevelopment: Bilingual("Desarrollo de negocios", "Business development")
        case .familyReunification: Bilingual("Reunificación familiar", "Family reunification")
        case .cashAssistance: Bilingual("Asistencia en efectivo", "Cash assistance")
        }
    }

    static func referralStatus(_ s: ReferralStatus) -> Bilingual {
        switch s {
        case .requested: Bilingual("Solicitada", "Requested")
        case .received: Bilingual("Recibida", "Received")
        case .accepted: Bilingual("Aceptada", "Accepted")
        case .rejected: Bilingual("Rechazada", "Rejected")
        case .inProgress: Bilingual("En curso", "In progress")
        case .completed: Bilingual("Completada", "Completed")
        case .failed: Bilingual("Fallida", "Failed")
        case .cancelled: Bilingual("Cancelada", "Cancelled")
        }
    }

    static func referralReason(_ r: ReferralReason) -> Bilingual {
        switch r {
        case .delivered: Bilingual("Servicio prestado", "Delivered")
        case .partiallyDelivered: Bilingual("Prestado en parte", "Partially delivered")
        case .noCapacity: Bilingual("Sin capacidad", "No capacity")
        case .outsideArea: Bilingual("Fuera del área", "Outside the area")
        case .notEligible: Bilingual("No cumple requisitos", "Not eligible")
        case .serviceNotOffered: Bilingual("Servicio no ofrecido", "Service not offered")
        case .unreachable: Bilingual("No se le localizó", "Unreachable")
        case .declinedByReturnee: Bilingual("La persona lo rechazó", "Declined by the returnee")
        case .consentWithdrawn: Bilingual("Consentimiento retirado", "Consent withdrawn")
        case .notNeeded: Bilingual("Ya no se necesita", "Not needed")
        case .other: Bilingual("Otro", "Other")
        }
    }

    static func field(_ f: ReferralField) -> Bilingual {
        switch f {
        case .givenNames: Bilingual("Nombres", "Given names")
        case .surnames: Bilingual("Apellidos", "Surnames")
        case .sex: Bilingual("Sexo", "Sex")
        case .age: Bilingual("Edad", "Age")
        case .phone: Bilingual("Teléfono", "Phone")
        case .language: Bilingual("Idioma", "Language")
        case .municipality: Bilingual("Municipio", "Municipality")
        case .vulnerabilities: Bilingual("Vulnerabilidades", "Vulnerabilities")
        case .skills: Bilingual("Habilidades", "Skills")
        case .intentions: Bilingual("Intenciones", "Intentions")
        case .plan: Bilingual("Plan", "Plan")
        }
    }

    static func purpose(_ p: ConsentPurpose) -> Bilingual {
        switch p {
        case .linkage: Bilingual("Vinculación de registros", "Record linkage")
        case .reintegration: Bilingual("Reintegración (gestión de casos)", "Reintegration (case management)")
        case .referral: Bilingual("Remisión a organizaciones socias", "Referral to partners")
        case .exchange: Bilingual("Intercambio con otros nodos", "Exchange with other nodes")
        }
    }

    static func dimension(_ d: ReintegrationDimension) -> Bilingual {
        switch d {
        case .economic: Bilingual("Económica", "Economic")
        case .social: Bilingual("Social", "Social")
        case .psychosocial: Bilingual("Psicosocial", "Psychosocial")
        }
    }

    static func occasion(_ o: FollowUpService.Occasion) -> Bilingual {
        switch o {
        case .baseline: Bilingual("Línea de base", "Baseline")
        case .followUp: Bilingual("Seguimiento", "Follow-up")
        }
    }

    static func mode(_ m: FollowUpService.Mode) -> Bilingual {
        switch m {
        case .phone: Bilingual("Por teléfono", "By phone")
        case .visit: Bilingual("Visita", "Visit")
        }
    }

    /// What the timeline's entry kinds say.
    static func entry(_ kind: String) -> Bilingual {
        switch kind {
        case "opened": Bilingual("Caso abierto", "Case opened")
        case "assigned": Bilingual("Asignado", "Assigned")
        case "status": Bilingual("Estado", "Status")
        case "closed": Bilingual("Cerrado", "Closed")
        case "reopened": Bilingual("Reabierto", "Reopened")
        case "referral_requested": Bilingual("Remisión solicitada", "Referral requested")
        case "referral_status": Bilingual("Remisión", "Referral")
        case "referral_escalated": Bilingual("Remisión escalada", "Referral escalated")
        case "referral_feedback": Bilingual("Opinión de la persona", "Returnee's feedback")
        case "survey": Bilingual("Encuesta", "Survey")
        case "grant_applied": Bilingual("Solicitud de capital semilla", "Seed grant applied for")
        case "grant": Bilingual("Capital semilla", "Seed grant")
        default: Bilingual(kind, kind)
        }
    }
}
