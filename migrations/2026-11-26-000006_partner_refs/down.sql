DROP TABLE partner_refs;
